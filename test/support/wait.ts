/**
 * Waiting with deadlines: a failure is an error naming what never happened,
 * never a hang and never a fixed sleep.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

type Listener = (...args: never[]) => void;
interface Emitter {
  on(event: never, listener: never): unknown;
  off(event: never, listener: never): unknown;
}

/** Resolves with the first event payload that matches, or rejects at the deadline. */
export function nextEvent<T>(target: Emitter, event: string, match: (payload: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
  const emitter = target as unknown as { on(e: string, l: Listener): unknown; off(e: string, l: Listener): unknown };
  return new Promise((resolve, reject) => {
    const listener = (payload: T) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      emitter.off(event, listener as Listener);
      resolve(payload);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener as Listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for event ${event}`));
    }, timeoutMs);
    emitter.on(event, listener as Listener);
  });
}
