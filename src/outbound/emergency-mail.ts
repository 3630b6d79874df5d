/**
 * E-mails to emergency contacts when an agent flags an emergency: the
 * contacts of the conversation's queue (the default queue while it has none)
 * and of the flagging agent, each once, from the queue's editable template.
 * Sent through the alert mailer (src/outbound/alert-mail.ts) by a retried
 * job on the timers queue; a retry skips the contacts already e-mailed.
 */
import type { Logger } from '../log.ts';
import { getAgent } from '../store/agents.ts';
import { getConversationView, lastInboundMessages, recordEvent } from '../store/conversations.ts';
import type { Db } from '../store/db.ts';
import { emergencyContactsFor, emergencyMailProgress } from '../store/emergency-contacts.ts';
import { getQueueSettings } from '../store/queue-settings.ts';
import type { Attachment } from '../store/schema.ts';
import type { AlertMailer } from './alert-mail.ts';

/** How many of the citizen's latest messages the summary quotes. */
export const SUMMARY_MESSAGES = 5;
const MAX_QUOTED_CHARS = 500;

export const CONFIDENTIAL_SUMMARY = 'This conversation is confidential: its content is not sent by e-mail. Open it in the console to read it.';
const CONFIDENTIAL_CONTACT = 'a citizen (confidential conversation)';

/** What a template's placeholders are filled with. */
export interface EmergencyMailValues {
  contact: string;
  agent: string;
  summary: string;
  link: string;
}

/**
 * Fills `{{contact}}`, `{{agent}}`, `{{summary}}` and `{{link}}` (spaces
 * inside the braces allowed) in one pass: a value that itself contains a
 * placeholder (a citizen writing "{{link}}") is left as written.
 */
export function fillEmergencyTemplate(template: string, values: EmergencyMailValues): string {
  return template.replace(/\{\{\s*(contact|agent|summary|link)\s*\}\}/g, (_m, key: keyof EmergencyMailValues) => values[key]);
}

/** The citizen's latest messages as plain text, one per line with its time (UTC). */
export function formatSummary(messages: ReadonlyArray<{ body: string; attachments: readonly Attachment[]; createdAt: Date }>): string {
  if (messages.length === 0) return 'The citizen has not written anything yet.';
  const lines = messages.map((m) => {
    const body = m.body.length > MAX_QUOTED_CHARS ? `${m.body.slice(0, MAX_QUOTED_CHARS)}…` : m.body;
    const files = m.attachments.length > 0 ? ` [attached: ${m.attachments.map((a) => a.name).join(', ')}]` : '';
    return `${m.createdAt.toISOString().slice(11, 19)} UTC  ${body}${files}`;
  });
  return [`The citizen's last ${messages.length === 1 ? 'message' : `${messages.length} messages`}:`, ...lines].join('\n');
}

export interface EmergencyMailDeps {
  db: Db;
  /** Absent when no SMTP server is configured: the e-mails are skipped (logged and recorded). */
  mailer?: AlertMailer;
  /** The console's address, for the link to the conversation. */
  consoleUrl: () => string;
}

/**
 * E-mails every emergency contact of a flagged conversation once. Throws
 * when a send failed, so the job is retried for the contacts left; records
 * `emergency_contacts.emailed` with the count once all are done.
 */
export async function emailEmergencyContacts(deps: EmergencyMailDeps, job: { conversationId: string; agentId: string }, log: Logger): Promise<void> {
  const { conversationId } = job;
  const [conversation, agent] = await Promise.all([getConversationView(deps.db, conversationId), getAgent(deps.db, job.agentId)]);
  if (!conversation) return;
  const progress = await emergencyMailProgress(deps.db, conversationId);
  if (progress.finished) return;
  const queue = await getQueueSettings(deps.db, conversation.queueId);
  const contacts = await emergencyContactsFor(deps.db, { queueId: queue.id, agentId: job.agentId });
  if (contacts.length > 0 && !deps.mailer) {
    log.info({ contacts: contacts.length }, 'no SMTP configured (ALERT_SMTP_URL): emergency contact e-mails skipped');
    await recordEvent(deps.db, {
      conversationId,
      type: 'emergency_contacts.skipped',
      actorType: 'system',
      data: { reason: 'no SMTP configured (ALERT_SMTP_URL)', contacts: contacts.length, agentId: job.agentId },
    });
    return;
  }
  const summary = conversation.confidential ? CONFIDENTIAL_SUMMARY : formatSummary(await lastInboundMessages(deps.db, conversationId, SUMMARY_MESSAGES));
  const values: EmergencyMailValues = {
    contact: conversation.confidential ? CONFIDENTIAL_CONTACT : conversation.contact.display,
    agent: agent?.displayName ?? 'a call-taker',
    summary,
    link: `${deps.consoleUrl()}/console#conversation=${conversationId}`,
  };
  const text = fillEmergencyTemplate(queue.emergencyContactTemplate, values);
  let failed = 0;
  for (const contact of contacts) {
    if (progress.emailed.has(contact.id) || !deps.mailer) continue;
    try {
      const sent = await deps.mailer.send({ to: contact.email, subject: `Emergency flagged in a ${conversation.channel} conversation`, text });
      await recordEvent(deps.db, { conversationId, type: 'emergency_contact.emailed', actorType: 'system', data: { contactId: contact.id, messageId: sent.messageId } });
      progress.emailed.add(contact.id);
    } catch (err) {
      failed++;
      // Not the error itself: SMTP errors name the recipient.
      const e = err as { code?: string; responseCode?: number };
      log.warn({ contactId: contact.id, code: e.code, responseCode: e.responseCode }, 'e-mailing an emergency contact failed; the job retries it');
    }
  }
  if (failed > 0) throw new Error(`${failed} of ${contacts.length} emergency contact e-mails failed`);
  const count = contacts.filter((c) => progress.emailed.has(c.id)).length;
  await recordEvent(deps.db, { conversationId, type: 'emergency_contacts.emailed', actorType: 'system', data: { count, agentId: job.agentId } });
  log.info({ count }, 'emergency contacts e-mailed');
}
