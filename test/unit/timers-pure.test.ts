import { describe, expect, it } from 'vitest';
import { isOpen } from '../../src/routing/opening-hours.ts';
import { longestIdlePolicy } from '../../src/routing/policy.ts';
import { DEFAULT_CHANNEL_WEIGHTS, parseChannelWeights, weightFor } from '../../src/routing/weights.ts';
import { loadConfig } from '../../src/config.ts';

describe('opening hours', () => {
  const hours = { timeZone: 'Europe/Rome', days: { mon: [['08:00', '20:00'] as [string, string]], fri: [['22:00', '02:00'] as [string, string]] } };
  it.each([
    ['null is always open', null, '2025-01-06T03:00:00Z', true],
    ['Monday 09:00 in Rome (08:00 UTC)', hours, '2025-01-06T08:00:00Z', true],
    ['Monday 07:59 in Rome', hours, '2025-01-06T06:59:00Z', false],
    ['Monday 20:00 in Rome is closed (end exclusive)', hours, '2025-01-06T19:00:00Z', false],
    ['Tuesday: no entry, closed', hours, '2025-01-07T10:00:00Z', false],
    ['Friday 23:00 in Rome, past-midnight range', hours, '2025-01-10T22:00:00Z', true],
    ['Saturday 01:30 in Rome, from Friday', hours, '2025-01-11T00:30:00Z', true],
    ['Saturday 02:00 in Rome, ended', hours, '2025-01-11T01:00:00Z', false],
    ['summer time: Monday 08:30 in Rome is 06:30 UTC', hours, '2025-07-07T06:30:00Z', true],
    ['an unknown time zone counts as open', { timeZone: 'Nowhere/Else', days: {} }, '2025-01-06T08:00:00Z', true],
  ])('%s', (_name, h, at, open) => {
    expect(isOpen(h, new Date(at))).toBe(open);
  });
});

describe('channel weights', () => {
  it('defaults to voice 3 and every text channel 1', () => {
    expect(parseChannelWeights(undefined)).toEqual(DEFAULT_CHANNEL_WEIGHTS);
    expect(weightFor(DEFAULT_CHANNEL_WEIGHTS, 'voice')).toBe(3);
    for (const c of ['sms', 'email', 'webchat', 'slack'] as const) expect(weightFor(DEFAULT_CHANNEL_WEIGHTS, c)).toBe(1);
  });
  it('overrides named channels only', () => {
    const w = parseChannelWeights('voice=5, email:2');
    expect(w).toMatchObject({ voice: 5, email: 2, sms: 1 });
  });
  it.each(['voice', 'fax=1', 'voice=0', 'voice=99', 'sms=x'])('rejects %s', (text) => {
    expect(() => parseChannelWeights(text)).toThrow();
  });
  it('is validated with the rest of the configuration', () => {
    expect(() => loadConfig({ CHANNEL_WEIGHTS: 'fax=2' })).toThrow(/CHANNEL_WEIGHTS/);
    expect(loadConfig({ CHANNEL_WEIGHTS: 'voice=2' }).channelWeights.voice).toBe(2);
  });
});

describe('policy: a timed-out agent is skipped', () => {
  const now = new Date('2025-01-01T00:00:00Z');
  const agents = [
    { id: 'a', load: 0, capacity: 3, idleSince: new Date('2024-12-31T00:00:00Z'), queueIds: [] },
    { id: 'b', load: 0, capacity: 3, idleSince: new Date('2024-12-31T12:00:00Z'), queueIds: [] },
  ];
  const waiting = (excluded: string[]) => [{ id: 'c', version: 1, priority: 0, queuedAt: now, queueId: 'q', weight: 1, excludedAgentIds: excluded }];
  it('offers to the longest idle when nobody is excluded', () => {
    expect(longestIdlePolicy(waiting([]), agents, now).map((p) => p.agentId)).toEqual(['a']);
  });
  it('offers to the next agent when the longest idle just missed it', () => {
    expect(longestIdlePolicy(waiting(['a']), agents, now).map((p) => p.agentId)).toEqual(['b']);
  });
  it('leaves it waiting when every agent is excluded', () => {
    expect(longestIdlePolicy(waiting(['a', 'b']), agents, now)).toEqual([]);
  });
  it('a voice call (weight 3) takes a whole agent of capacity 3', () => {
    const call = [{ id: 'v', version: 1, priority: 0, queuedAt: now, queueId: 'q', weight: 3 }];
    const busy = [{ ...agents[0]!, load: 1 }];
    expect(longestIdlePolicy(call, busy, now)).toEqual([]);
    expect(longestIdlePolicy(call, [agents[0]!], now).map((p) => p.agentId)).toEqual(['a']);
  });
});
