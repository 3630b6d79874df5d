import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../src/store/batch.ts';
import { ArmedChecks } from '../../workers/routing.ts';

describe('createBatcher', () => {
  it('serves the calls of one turn with one run over their distinct keys', async () => {
    const runs: number[][] = [];
    const b = createBatcher(async (keys: number[]) => {
      runs.push(keys);
      return new Map(keys.filter((k) => k !== 3).map((k) => [k, `v${k}`]));
    });
    const results = await Promise.all([b.load(1), b.load(2), b.load(1), b.load(3)]);
    expect(results).toEqual(['v1', 'v2', 'v1', undefined]);
    expect(runs).toEqual([[1, 2, 3]]);
    expect(await b.load(4)).toBe('v4');
    expect(runs).toEqual([[1, 2, 3], [4]]);
  });

  it('rejects every call of a failed batch, and the next batch runs again', async () => {
    let fail = true;
    const b = createBatcher(async (keys: string[]) => {
      if (fail) throw new Error('store down');
      return new Map(keys.map((k) => [k, k.length]));
    });
    const settled = await Promise.allSettled([b.load('a'), b.load('bb')]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await b.load('ccc')).toBe(3);
    const throwing = createBatcher<string, number>(() => {
      throw new Error('thrown before any promise');
    });
    await expect(throwing.load('x')).rejects.toThrow('thrown before any promise');
  });

  it('splits a turn with more keys than the limit into several runs', async () => {
    const sizes: number[] = [];
    const b = createBatcher(async (keys: number[]) => {
      sizes.push(keys.length);
      return new Map(keys.map((k) => [k, k * 2]));
    }, 4);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => b.load(i)));
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
    expect(sizes).toEqual([4, 4, 2]);
  });
});

describe('ArmedChecks (inactivity checks set by this process)', () => {
  const c = { id: 'c1', queuedAt: new Date('2026-11-22T00:00:00Z') };

  it('asks for a check once a minute per queueing of a conversation', () => {
    const armed = new ArmedChecks();
    expect(armed.seen(c, 0)).toBe(false);
    expect(armed.seen(c, 59_000)).toBe(true);
    expect(armed.seen(c, 60_000)).toBe(false);
    // Queued again (reopened, transferred to a queue): a new check at once.
    expect(armed.seen({ ...c, queuedAt: new Date('2026-11-22T00:05:00Z') }, 60_001)).toBe(false);
  });

  it('asks again at once after a check could not be set', () => {
    const armed = new ArmedChecks();
    expect(armed.seen(c, 0)).toBe(false);
    armed.forget(c);
    expect(armed.seen(c, 1)).toBe(false);
  });
});
