/**
 * Recognising mail no person wrote: auto-replies (out-of-office, "we got
 * your message") and bounces (delivery status notifications). The gateway
 * records them but never answers, so two robots cannot loop through a PSAP.
 * Signals from RFC 3834 (Auto-Submitted), RFC 3464 (multipart/report) and the
 * headers common responders add.
 */

/** Why a message is automatic, or null when a person wrote it. */
export type AutomaticKind = 'auto-reply' | 'bounce' | null;

/** The few facts about a message the classification needs, all lower-cased where they are tokens. */
export interface AutomaticSignals {
  /** Header values by lower-case name (first occurrence). */
  header(name: string): string | undefined;
  /** The sender's address, as given. */
  from: string;
  /** The Return-Path address; '' for the null path `<>`; undefined when absent. */
  returnPath: string | undefined;
  /** The top-level Content-Type, e.g. `multipart/report`. */
  contentType: string;
  /** Its `report-type` parameter, e.g. `delivery-status`. */
  reportType: string | undefined;
}

const BOUNCE_SENDERS = /^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@/i;

/**
 * Classifies a message. A delivery report or a mail from MAILER-DAEMON or
 * postmaster is a bounce; RFC 3834 and vendor headers mark an auto-reply; a
 * null Return-Path with none of those is treated as a bounce, since only
 * machines send with it.
 */
export function classifyAutomatic(signals: AutomaticSignals): AutomaticKind {
  if (signals.contentType === 'multipart/report') {
    return signals.reportType === 'delivery-status' ? 'bounce' : 'auto-reply';
  }
  if (BOUNCE_SENDERS.test(signals.from)) return 'bounce';
  const autoSubmitted = signals.header('auto-submitted')?.trim().toLowerCase();
  if (autoSubmitted !== undefined && autoSubmitted !== '' && !/^no\b/.test(autoSubmitted)) return 'auto-reply';
  if (signals.header('x-autoreply') !== undefined || signals.header('x-autorespond') !== undefined) return 'auto-reply';
  const precedence = signals.header('precedence')?.trim().toLowerCase();
  if (precedence === 'bulk' || precedence === 'junk' || precedence === 'auto_reply') return 'auto-reply';
  if (signals.returnPath === '') return 'bounce';
  return null;
}
