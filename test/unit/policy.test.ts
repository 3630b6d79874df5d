import { describe, expect, it } from 'vitest';
import { longestIdlePolicy, type AgentSlot, type WaitingConversation } from '../../src/routing/policy.ts';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const conv = (id: string, priority: number, queuedAt: number, extra: Partial<WaitingConversation> = {}): WaitingConversation => ({
  id,
  version: 0,
  priority,
  queuedAt: t(queuedAt),
  queueId: 'q1',
  weight: 1,
  ...extra,
});
const agent = (id: string, idleSince: number, extra: Partial<AgentSlot> = {}): AgentSlot => ({
  id,
  load: 0,
  capacity: 1,
  idleSince: t(idleSince),
  queueIds: [],
  ...extra,
});

describe('longestIdlePolicy', () => {
  it('assigns the highest priority first, then the oldest, to the longest-idle agent', () => {
    const plan = longestIdlePolicy(
      [conv('low-old', 0, 1), conv('high-new', 100, 9), conv('mid', 50, 5), conv('high-old', 100, 2)],
      [agent('recent', 50), agent('idle', 10), agent('middle', 30)],
      t(60),
    );
    expect(plan.map((p) => [p.conversationId, p.agentId])).toEqual([
      ['high-old', 'idle'],
      ['high-new', 'middle'],
      ['mid', 'recent'],
    ]);
  });

  it('never exceeds an agent capacity, counting conversation weight', () => {
    const plan = longestIdlePolicy(
      [conv('voice', 100, 1, { weight: 3 }), conv('t1', 0, 2), conv('t2', 0, 3), conv('t3', 0, 4)],
      [agent('a', 0, { capacity: 3, load: 1 })],
      t(60),
    );
    expect(plan.map((p) => p.conversationId)).toEqual(['t1', 't2']);
  });

  it('spreads work: an agent just given work goes to the back', () => {
    const plan = longestIdlePolicy([conv('c1', 0, 1), conv('c2', 0, 2), conv('c3', 0, 3)], [agent('a', 1, { capacity: 5 }), agent('b', 2, { capacity: 5 })], t(60));
    expect(plan.map((p) => p.agentId)).toEqual(['a', 'b', 'a']);
  });

  it('only offers a queue to agents who serve it', () => {
    const plan = longestIdlePolicy(
      [conv('fire', 90, 1, { queueId: 'fire' }), conv('other', 0, 2, { queueId: 'general' })],
      [agent('general-only', 1, { queueIds: ['general'], capacity: 2 })],
      t(60),
    );
    expect(plan.map((p) => p.conversationId)).toEqual(['other']);
  });

  it('assigns nothing when nobody has room', () => {
    expect(longestIdlePolicy([conv('c', 0, 1)], [agent('full', 1, { load: 1 })], t(60))).toEqual([]);
  });
});
