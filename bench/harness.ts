/**
 * The measurement harness shared by every path `npm run bench` measures
 * (Lifeline's web chat and SMPP, and the raw baseline): the two load shapes
 * (a paced open loop at a fixed offered rate, a closed loop with a bounded
 * number of messages in flight), latency percentiles, throughput and the
 * plain-text tables. A path supplies only a Sender (how one message goes
 * out) and feeds the Tracker what its receivers see.
 */
import { waitFor } from '../test/support/wait.ts';
import type { Tracker } from './tracker.ts';

/** How one path sends a message. */
export interface Sender {
  /**
   * Sends message `seq` now and calls `onAck` with the server's answer
   * (sent after commit and enqueue). Returns the sending client's index
   * (for per-sender ordering checks), or undefined when no client may send
   * now (a rate-limit bucket empty, an SMPP window full): the harness counts
   * a wait and tries again later.
   */
  trySend(seq: number, text: string, onAck: (ok: boolean, error?: string) => void): number | undefined;
  /** Milliseconds until trySend may succeed again. */
  msUntilReady(): number;
}

export interface RunResult {
  /** The path measured: 'baseline', 'web chat', 'SMPP'. */
  path: string;
  label: string;
  /** Offered messages/s, or null for a closed loop. */
  offeredRate: number | null;
  /** Closed loop: messages in flight. */
  inFlight: number | null;
  tracker: Tracker;
  /** Times no client could send when a message was due. */
  waits: number;
  /** Why sending stopped before the planned count, if it did. */
  stoppedEarly?: string;
  /** False when messages were still unaccounted for after the server stopped making progress. */
  drained: boolean;
}

export interface Limits {
  /** Paced run: stop offering once this many messages are sent but not yet seen by a receiver. */
  maxBacklog: number;
  /** Paced run: stop offering once the oldest unseen message is this old (ms). */
  maxWaitMs: number;
  /** Give up on stragglers after this long without any message settling (ms). */
  idleMs: number;
}

function send(sender: Sender, tracker: Tracker, seq: number, intended: number): boolean {
  const at = performance.now();
  const client = sender.trySend(seq, tracker.text(seq), (ok, error) => tracker.recordAck(seq, ok, performance.now(), error));
  if (client === undefined) return false;
  tracker.recordSend(seq, client, intended, at);
  return true;
}

/**
 * Waits until every message is accounted for, as long as the server keeps
 * making progress: a slow server is reported as slow, only a stalled one as
 * losing messages.
 */
async function drain(tracker: Tracker, idleMs: number): Promise<boolean> {
  for (;;) {
    if (tracker.settled()) return true;
    const mark = tracker.progress();
    const acks = tracker.pendingAcks();
    try {
      await waitFor(
        `${tracker.tag}: any progress (${tracker.backlog()} messages unseen, ${acks} acks pending)`,
        () => tracker.settled() || tracker.progress() !== mark || tracker.pendingAcks() !== acks,
        idleMs,
        10,
      );
    } catch {
      return false;
    }
  }
}

/**
 * Offers `rate` messages/s for `seconds`. Each message has an intended send
 * time on a fixed schedule and its latency counts from then, so a stalled
 * sender or event loop shows up as latency instead of as fewer samples (no
 * coordinated omission). Once the server has clearly fallen behind (backlog
 * or wait past the limits) it stops offering, so an overload costs seconds
 * rather than minutes, and says so.
 */
export async function runPaced(path: string, sender: Sender, tracker: Tracker, label: string, rate: number, seconds: number, limits: Limits): Promise<RunResult> {
  const total = Math.min(tracker.capacity, Math.round(rate * seconds));
  const interval = 1000 / rate;
  let waits = 0;
  let next = 0;
  let stoppedEarly: string | undefined;
  const start = performance.now() + 5;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const oldest = tracker.oldestPending();
      if (tracker.backlog() > limits.maxBacklog || (oldest !== undefined && now - oldest > limits.maxWaitMs)) {
        stoppedEarly =
          `overloaded after ${((now - start) / 1000).toFixed(1)} s: ${tracker.backlog()} messages unseen, ` +
          `oldest waiting ${((now - (oldest ?? now)) / 1000).toFixed(1)} s`;
        resolve();
        return;
      }
      while (next < total && start + next * interval <= now) {
        if (!send(sender, tracker, next, start + next * interval)) {
          waits++;
          break;
        }
        next++;
      }
      if (next >= total) {
        resolve();
        return;
      }
      setTimeout(tick, Math.max(0, Math.floor(start + next * interval - performance.now())));
    };
    tick();
  });
  return { path, label, offeredRate: rate, inFlight: null, tracker, waits, stoppedEarly, drained: await drain(tracker, limits.idleMs) };
}

/**
 * Sends up to `tracker.capacity` messages as fast as the server takes them,
 * with at most `inFlight` sent but not yet seen by a receiver, for at most
 * `maxSeconds`. Latency counts from the actual send (a closed loop has no
 * schedule to fall behind).
 */
export async function runClosed(
  path: string,
  sender: Sender,
  tracker: Tracker,
  label: string,
  inFlight: number,
  maxSeconds: number,
  limits: Limits,
): Promise<RunResult> {
  const total = tracker.capacity;
  const deadline = performance.now() + maxSeconds * 1000;
  let waits = 0;
  let next = 0;
  let outstanding = 0;
  let stoppedEarly: string | undefined;
  let retry: NodeJS.Timeout | undefined;
  let stop: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    const pump = () => {
      if (next < total && performance.now() > deadline) {
        stoppedEarly ??= `time limit ${maxSeconds} s reached after ${next} of ${total} messages`;
        resolve();
        return;
      }
      while (outstanding < inFlight && next < total) {
        if (!send(sender, tracker, next, performance.now())) {
          waits++;
          retry ??= setTimeout(() => {
            retry = undefined;
            pump();
          }, Math.max(1, sender.msUntilReady()));
          return;
        }
        outstanding++;
        next++;
      }
      if (next >= total) resolve();
    };
    tracker.onSettled = () => {
      outstanding--;
      pump();
    };
    // A server that settles nothing still meets the time limit.
    stop = setTimeout(pump, maxSeconds * 1000 + 1);
    pump();
  });
  tracker.onSettled = () => undefined;
  clearTimeout(retry);
  clearTimeout(stop);
  return { path, label, offeredRate: null, inFlight, tracker, waits, stoppedEarly, drained: await drain(tracker, limits.idleMs) };
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Achieved throughput: distinct deliveries over first intended send to last delivery. */
export function throughput(r: RunResult): number {
  const { start, end } = r.tracker.window();
  return end > start ? (r.tracker.received / (end - start)) * 1000 : 0;
}

/** Milliseconds for a table cell. */
export const ms = (v: number) => (Number.isNaN(v) ? '-' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
/** Fixed decimals with thousands separators (without Intl, whose first use is slow). */
export const num = (v: number, digits = 0) => {
  const [whole = '', fraction] = v.toFixed(digits).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
};

/** A titled plain-text table: first column left-aligned, the rest right-aligned. */
export function table(title: string, header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [title, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Whether a paced run kept up with its offered load, or why sending stopped. */
export function note(run: RunResult): string {
  if (run.stoppedEarly) return run.offeredRate === null ? run.stoppedEarly : `NOT SUSTAINED: ${run.stoppedEarly}`;
  if (run.offeredRate === null) return '';
  return throughput(run) >= 0.95 * run.offeredRate ? 'sustained' : 'NOT SUSTAINED: delivered below 95 % of offered';
}
