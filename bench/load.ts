/**
 * The load shapes: a paced open loop at a fixed offered rate, and a closed
 * loop with a bounded number of messages in flight (warm-up and saturation).
 */
import { waitFor } from '../test/support/wait.ts';
import type { BenchCitizen, Fleet } from './fleet.ts';
import type { Tracker } from './tracker.ts';

export interface RunResult {
  label: string;
  /** Offered messages/s, or null for a closed loop. */
  offeredRate: number | null;
  tracker: Tracker;
  /** Times no citizen had a rate-limit token left when a message was due. */
  tokenWaits: number;
  /** Why sending stopped before the planned count, if it did. */
  stoppedEarly?: string;
  /** False when messages were still unaccounted for after the gateway stopped making progress. */
  drained: boolean;
}

export interface Limits {
  /** Paced run: stop offering once this many messages are sent but not yet seen by an agent. */
  maxBacklog: number;
  /** Paced run: stop offering once the oldest unseen message is this old (ms). */
  maxWaitMs: number;
  /** Give up on stragglers after this long without any message settling (ms). */
  idleMs: number;
}

/** Long enough never to fire while the drain still waits: a missing ack shows up as pending, not refused. */
const ACK_TIMEOUT_MS = 600_000;

/** Round-robin over citizens, skipping any whose token bucket is empty. */
class CitizenPicker {
  private cursor = 0;

  constructor(private readonly citizens: readonly BenchCitizen[]) {}

  pick(): BenchCitizen | undefined {
    for (let tries = 0; tries < this.citizens.length; tries++) {
      const citizen = this.citizens[this.cursor]!;
      this.cursor = (this.cursor + 1) % this.citizens.length;
      if (citizen.bucket.take()) return citizen;
    }
    return undefined;
  }

  msUntilAny(): number {
    return Math.max(1, Math.min(...this.citizens.map((c) => c.bucket.msUntilToken())));
  }
}

function send(citizen: BenchCitizen, tracker: Tracker, seq: number, intended: number): void {
  tracker.recordSend(seq, citizen.index, intended, performance.now());
  citizen.socket
    .timeout(ACK_TIMEOUT_MS)
    .emit('message:send', { clientId: tracker.clientId(seq), text: tracker.text(seq) }, (err, reply) => {
      const at = performance.now();
      if (err) tracker.recordAck(seq, false, at, 'ack timeout');
      else if (!reply.ok) tracker.recordAck(seq, false, at, reply.error.code);
      else tracker.recordAck(seq, true, at);
    });
}

/**
 * Waits until every message is accounted for, as long as the gateway keeps
 * making progress: a slow gateway is reported as slow, only a stalled one as
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
 * coordinated omission). Once the gateway has clearly fallen behind (backlog
 * or wait past the limits) it stops offering, so an overload costs seconds
 * rather than minutes, and says so.
 */
export async function runPaced(fleet: Fleet, tracker: Tracker, label: string, rate: number, seconds: number, limits: Limits): Promise<RunResult> {
  const total = Math.min(tracker.capacity, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const picker = new CitizenPicker(fleet.citizens);
  let tokenWaits = 0;
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
        const citizen = picker.pick();
        if (!citizen) {
          tokenWaits++;
          break;
        }
        send(citizen, tracker, next, start + next * interval);
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
  return { label, offeredRate: rate, tracker, tokenWaits, stoppedEarly, drained: await drain(tracker, limits.idleMs) };
}

/**
 * Sends up to `tracker.capacity` messages as fast as the gateway takes them,
 * with at most `inFlight` sent but not yet seen by an agent, for at most
 * `maxSeconds`. Latency counts from the actual send (a closed loop has no
 * schedule to fall behind).
 */
export async function runClosed(
  fleet: Fleet,
  tracker: Tracker,
  label: string,
  inFlight: number,
  maxSeconds: number,
  limits: Limits,
): Promise<RunResult> {
  const total = tracker.capacity;
  const picker = new CitizenPicker(fleet.citizens);
  const deadline = performance.now() + maxSeconds * 1000;
  let tokenWaits = 0;
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
        const citizen = picker.pick();
        if (!citizen) {
          tokenWaits++;
          retry ??= setTimeout(() => {
            retry = undefined;
            pump();
          }, picker.msUntilAny());
          return;
        }
        outstanding++;
        send(citizen, tracker, next, performance.now());
        next++;
      }
      if (next >= total) resolve();
    };
    tracker.onSettled = () => {
      outstanding--;
      pump();
    };
    // A gateway that settles nothing still meets the time limit.
    stop = setTimeout(pump, maxSeconds * 1000 + 1);
    pump();
  });
  tracker.onSettled = () => undefined;
  clearTimeout(retry);
  clearTimeout(stop);
  return { label, offeredRate: null, tracker, tokenWaits, stoppedEarly, drained: await drain(tracker, limits.idleMs) };
}
