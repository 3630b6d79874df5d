import { describe, expect, it } from 'vitest';
import { containsPhrase, normaliseText, scorePriority, type PriorityRule } from '../../src/routing/priority.ts';

const rules: PriorityRule[] = [
  { id: 'w', name: 'Weapons', kind: 'keyword', terms: ['gun', 'knife'], windowSeconds: null, priority: 100, queueId: 'q-violence' },
  { id: 'b', name: 'Breathing', kind: 'keyword', terms: ['not breathing'], windowSeconds: null, priority: 100, queueId: null },
  { id: 'f', name: 'Fire', kind: 'keyword', terms: ['fire', 'fuego'], windowSeconds: null, priority: 90, queueId: 'q-fire' },
  { id: 'v', name: 'Voice', kind: 'channel', terms: ['voice'], windowSeconds: null, priority: 50, queueId: null },
  { id: 'r', name: 'Repeat', kind: 'repeat_contact', terms: [], windowSeconds: 3600, priority: 20, queueId: null },
];

describe('scorePriority', () => {
  const cases: Array<[string, Parameters<typeof scorePriority>[1], number, string | null]> = [
    ['plain text scores nothing', { channel: 'sms', text: 'please help me', secondsSincePreviousConversation: null }, 0, null],
    ['a keyword as a whole word', { channel: 'sms', text: 'He has a GUN!', secondsSincePreviousConversation: null }, 100, 'q-violence'],
    ['no match inside another word', { channel: 'sms', text: 'begun, gunther, shotgunning', secondsSincePreviousConversation: null }, 0, null],
    ['a phrase across spaces and case', { channel: 'sms', text: 'my dad is NOT   breathing', secondsSincePreviousConversation: null }, 100, null],
    ['accents are ignored', { channel: 'sms', text: '¡Fuégo en la casa!', secondsSincePreviousConversation: null }, 90, 'q-fire'],
    ['rules add up; the strongest rule with a queue picks it', { channel: 'sms', text: 'fire and a knife', secondsSincePreviousConversation: null }, 190, 'q-violence'],
    ['channel rule', { channel: 'voice', text: '', secondsSincePreviousConversation: null }, 50, null],
    ['repeat contact inside the window', { channel: 'sms', text: 'again', secondsSincePreviousConversation: 600 }, 20, null],
    ['repeat contact outside the window', { channel: 'sms', text: 'again', secondsSincePreviousConversation: 7200 }, 0, null],
  ];
  it.each(cases)('%s', (_name, input, priority, queueId) => {
    const score = scorePriority(rules, input);
    expect(score.priority).toBe(priority);
    expect(score.queueId).toBe(queueId);
  });

  it('lists the rules that matched, for the decision log', () => {
    expect(scorePriority(rules, { channel: 'voice', text: 'fire', secondsSincePreviousConversation: 5 }).matched.map((m) => m.ruleId)).toEqual(['f', 'v', 'r']);
  });
});

describe('text matching', () => {
  it('normalises case and accents', () => {
    expect(normaliseText('ÉCOLE Ñandú')).toBe('ecole nandu');
  });
  it('treats regex characters in terms literally', () => {
    expect(containsPhrase('call 9.1.1 now', '9.1.1')).toBe(true);
    expect(containsPhrase('call 9x1x1 now', '9.1.1')).toBe(false);
    expect(containsPhrase('anything', '   ')).toBe(false);
  });
});
