/**
 * The benchmark's arithmetic: the median that compares paced rounds, and
 * the per-window p99 of a paced run's timeline.
 */
import { describe, expect, it } from 'vitest';
import { percentile } from '../../bench/harness.ts';
import { median } from '../../bench/report.ts';
import { Tracker } from '../../bench/tracker.ts';

describe('bench median', () => {
  it('takes the middle value, or the mean of the middle two', () => {
    expect(median([30, 10, 20])).toBe(20);
    expect(median([40, 10, 30, 20])).toBe(25);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('is not moved by one outlying round', () => {
    expect(median([45, 48, 480])).toBe(48);
  });
});

describe('bench timeline', () => {
  /** A run of `n` messages 1 ms apart, acked after `ack` ms and seen after `seen(seq)` ms. */
  function run(n: number, ack: number, seen: (seq: number) => number): Tracker {
    const t = new Tracker('t1', n);
    for (let seq = 0; seq < n; seq++) {
      t.recordSend(seq, seq % 10, seq, seq);
      t.recordAck(seq, true, seq + ack);
      t.recordReceive(seq, t.text(seq), seq + seen(seq));
    }
    return t;
  }

  it('gives each window its own p99, end to end and after the ack', () => {
    // 3,000 messages over 3 s; the second second is slow.
    const t = run(3000, 2, (seq) => (seq >= 1000 && seq < 2000 ? 50 : 5));
    const w = t.windows(1000);
    expect(w).toHaveLength(3);
    expect(w.map((x) => x.endToEnd.length)).toEqual([1000, 1000, 1000]);
    expect(w.map((x) => percentile(x.endToEnd, 99))).toEqual([5, 50, 5]);
    expect(w.map((x) => percentile(x.afterAck, 99))).toEqual([3, 48, 3]);
  });

  it('leaves out messages nobody saw and has no after-ack figure without acks', () => {
    const t = new Tracker('t2', 4);
    for (let seq = 0; seq < 4; seq++) t.recordSend(seq, 0, seq, seq);
    t.recordReceive(0, t.text(0), 10);
    t.recordReceive(1, t.text(1), 21);
    const w = t.windows(1000);
    expect(w).toHaveLength(1);
    expect([...w[0]!.endToEnd]).toEqual([10, 20]);
    expect(percentile(w[0]!.afterAck, 99)).toBeNaN();
  });
});
