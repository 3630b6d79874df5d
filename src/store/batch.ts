/**
 * Group commit for hot-path statements: calls made in the same turn of the
 * event loop (the routing worker runs many jobs at once) are served by one
 * statement over all their keys, so a busy worker pays one round trip per
 * batch instead of one per message. A lone call waits one setImmediate.
 */

export interface Batcher<K, R> {
  /** Resolves with the key's result (undefined when the batch returned none for it). */
  load(key: K): Promise<R | undefined>;
}

/**
 * `run` answers a batch of distinct keys with a map from key to result; a
 * rejection rejects every call in that batch. At most `max` keys go in one
 * batch; more start another.
 */
export function createBatcher<K, R>(run: (keys: K[]) => Promise<Map<K, R>>, max = 256): Batcher<K, R> {
  type Waiter = { resolve: (r: R | undefined) => void; reject: (err: unknown) => void };
  let pending: Map<K, Waiter[]> | undefined;

  const flush = (batch: Map<K, Waiter[]>) => {
    // Through a promise, so even a `run` that throws synchronously rejects its callers instead of the process.
    Promise.resolve([...batch.keys()]).then(run).then(
      (results) => {
        for (const [key, waiters] of batch) for (const w of waiters) w.resolve(results.get(key));
      },
      (err: unknown) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  };

  return {
    load(key) {
      return new Promise((resolve, reject) => {
        let batch = pending;
        if (!batch) {
          const opened = new Map<K, Waiter[]>();
          batch = pending = opened;
          setImmediate(() => {
            if (pending === opened) pending = undefined;
            flush(opened);
          });
        }
        const waiters = batch.get(key);
        if (waiters) waiters.push({ resolve, reject });
        else batch.set(key, [{ resolve, reject }]);
        if (batch.size >= max) pending = undefined; // full: it flushes on its setImmediate; later keys start another
      });
    },
  };
}
