/**
 * Folding quoted history out of a citizen's e-mail: the agent reads the new
 * part first, the full text stays stored beside it. Pure string work.
 */

/** A reply header as mail clients write it: "On Mon, 3 Jun 2024 at 10:02, Ann <a@b> wrote:" (German, French and Spanish too). */
const ATTRIBUTION = /^\s*(on|am|le|el)\b.{0,300}\b(wrote|schrieb|a écrit|escribió)\s*:\s*$/i;
/** Outlook's and others' start of a forwarded or replied original: everything after it is history. */
const ORIGINAL = /^\s*(-{2,}\s*(original message|forwarded message|ursprüngliche nachricht|message d'origine)\s*-{2,}|_{20,})\s*$/i;
/** Outlook's header block that starts the history: "From: ..." followed within two lines by "Sent:" or "Date:". */
const OUTLOOK_FROM = /^\s*\*?(from|von|de)\s*:\*?\s+\S/i;
const OUTLOOK_NEXT = /^\s*\*?(sent|date|gesendet|envoyé|enviado)\s*:\*?\s+\S/i;

/** The text an agent sees first and whether anything was folded away. */
export interface FoldedText {
  /** The citizen's new words: quoted lines and the history below a reply header removed. */
  text: string;
  /** True when `text` differs from the full body. */
  folded: boolean;
}

function isQuoted(line: string): boolean {
  return /^\s*>/.test(line);
}

/**
 * Where the history starts in an Outlook-style or separator-style reply, or
 * -1. Gmail's attribution line is often wrapped over two lines, so a line
 * ending in "wrote:" is matched together with the one before it.
 */
function historyStart(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (ORIGINAL.test(line)) return i;
    if (OUTLOOK_FROM.test(line) && (OUTLOOK_NEXT.test(lines[i + 1] ?? '') || OUTLOOK_NEXT.test(lines[i + 2] ?? ''))) return i;
  }
  return -1;
}

/** True when the line (or it joined with the previous one) is a reply header followed by quoted lines or the end. */
function isAttribution(lines: string[], i: number): 0 | 1 | 2 {
  const line = lines[i] ?? '';
  const nextQuoted = (from: number) => {
    for (let j = from; j < lines.length; j++) {
      const next = lines[j] ?? '';
      if (next.trim() === '') continue;
      return isQuoted(next);
    }
    return true;
  };
  if (ATTRIBUTION.test(line) && nextQuoted(i + 1)) return 1;
  const joined = `${lines[i - 1] ?? ''} ${line}`;
  if (i > 0 && /wrote\s*:\s*$/i.test(line) && ATTRIBUTION.test(joined) && nextQuoted(i + 1)) return 2;
  return 0;
}

/**
 * Removes quoted history from a plain-text body: lines starting with ">",
 * the "On ... wrote:" header above them, and everything after an
 * "-----Original Message-----" separator or an Outlook "From:/Sent:" block.
 * Text written between quoted blocks (inline answers) is kept. When nothing
 * would be left (a message that only quotes), the full text is returned.
 */
export function foldQuotedHistory(fullText: string): FoldedText {
  const all = fullText.replace(/\r\n?/g, '\n').split('\n');
  const cut = historyStart(all);
  const lines = cut >= 0 ? all.slice(0, cut) : all;
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (isQuoted(line)) continue;
    const attribution = isAttribution(lines, i);
    if (attribution === 2) kept.pop();
    if (attribution > 0) continue;
    kept.push(line);
  }
  const text = kept
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (text === '') return { text: fullText.trim(), folded: false };
  return { text, folded: text !== fullText.trim() };
}
