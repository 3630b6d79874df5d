/**
 * Priority scoring: pure functions over the rules stored in the database.
 */
import type { Channel } from '../domain/types.ts';

export interface PriorityRule {
  id: string;
  name: string;
  kind: 'keyword' | 'channel' | 'repeat_contact';
  terms: readonly string[];
  windowSeconds: number | null;
  priority: number;
  queueId: string | null;
}

export interface ScoringInput {
  channel: Channel;
  text: string;
  /** Seconds since the contact's previous conversation was opened, if any. */
  secondsSincePreviousConversation: number | null;
}

export interface PriorityScore {
  priority: number;
  queueId: string | null;
  matched: Array<{ ruleId: string; name: string; priority: number }>;
}

const DEFAULT_REPEAT_WINDOW_SECONDS = 3600;

/** Lower-cases and strips accents so "FUEGO" and "fuégo" match "fuego". */
export function normaliseText(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether a phrase occurs in the text as whole words. */
export function containsPhrase(normalisedText: string, phrase: string): boolean {
  const words = normaliseText(phrase).trim().split(/\s+/).filter(Boolean).map(escape);
  if (words.length === 0) return false;
  return new RegExp(`(^|[^\\p{L}\\p{N}])${words.join('\\s+')}($|[^\\p{L}\\p{N}])`, 'u').test(normalisedText);
}

function matches(rule: PriorityRule, input: ScoringInput, text: string): boolean {
  switch (rule.kind) {
    case 'keyword':
      return rule.terms.some((term) => containsPhrase(text, term));
    case 'channel':
      return rule.terms.includes(input.channel);
    case 'repeat_contact': {
      const since = input.secondsSincePreviousConversation;
      return since !== null && since <= (rule.windowSeconds ?? DEFAULT_REPEAT_WINDOW_SECONDS);
    }
  }
}

/**
 * Scores a message: matching rules add their points; the queue is that of the
 * highest-priority matching rule that names one.
 */
export function scorePriority(rules: readonly PriorityRule[], input: ScoringInput): PriorityScore {
  const text = normaliseText(input.text);
  const hit = rules.filter((rule) => matches(rule, input, text));
  const withQueue = [...hit].filter((r) => r.queueId).sort((a, b) => b.priority - a.priority)[0];
  return {
    priority: hit.reduce((sum, r) => sum + r.priority, 0),
    queueId: withQueue?.queueId ?? null,
    matched: hit.map((r) => ({ ruleId: r.id, name: r.name, priority: r.priority })),
  };
}
