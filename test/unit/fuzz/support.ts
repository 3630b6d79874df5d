/**
 * Fuzzing helpers: a seeded PRNG (see fuzzSeed), byte and value mutators, and a watch on unhandled rejections.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { createPrng, type Prng } from '../smpp/prng.ts';

export type { Prng };

/**
 * The run's seed: fixed per fuzzer so CI is reproducible; FUZZ_SEED=<n> replays
 * a printed seed, FUZZ_SEED=random explores new inputs. Printed either way.
 */
export function fuzzSeed(name: string): number {
  const env = process.env.FUZZ_SEED;
  const seed = env === 'random' ? Math.floor(Math.random() * 2 ** 32) : env ? Number(env) : [...name].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0, 2166136261);
  console.log(`fuzz ${name}: seed ${seed} (replay with FUZZ_SEED=${seed})`);
  return seed;
}

export const seeded = (name: string): Prng => createPrng(fuzzSeed(name));

/** Fails the file if anything rejected without a handler while it ran. */
export function watchUnhandledRejections(): void {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => void seen.push(reason);
  beforeAll(() => void process.on('unhandledRejection', listener));
  afterAll(async () => {
    // Let rejections of the last round surface before looking.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', listener);
    expect(seen).toEqual([]);
  });
}

/** A mutated copy of `bytes`: bit flips, truncation, byte runs inserted, removed or overwritten, or 32-bit fields set to extremes. */
export function mutateBytes(prng: Prng, bytes: Buffer, rounds = prng.int(1, 4)): Buffer {
  let out = Buffer.from(bytes);
  for (let r = 0; r < rounds; r++) {
    const at = out.length === 0 ? 0 : prng.int(0, out.length - 1);
    switch (prng.int(0, 6)) {
      case 0: // bit flips
        for (let i = prng.int(1, 8); i > 0 && out.length > 0; i--) {
          const j = prng.int(0, out.length - 1);
          out[j] = (out[j] as number) ^ (1 << prng.int(0, 7));
        }
        break;
      case 1: // truncation
        out = out.subarray(0, prng.int(0, out.length));
        break;
      case 2: // insertion
        out = Buffer.concat([out.subarray(0, at), prng.bytes(prng.int(1, 32)), out.subarray(at)]);
        break;
      case 3: // deletion
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + prng.int(1, 16))]);
        break;
      case 4: // an extreme byte
        if (out.length > 0) out[at] = prng.pick([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]);
        break;
      case 5: // an extreme 32-bit field (lengths, ids)
        if (out.length >= 4) out.writeUInt32BE(prng.pick([0, 1, 15, 16, 17, 0x7fffffff, 0x80000000, 0xffffffff, prng.int(0, 0xffffffff)]), prng.int(0, out.length - 4));
        break;
      default: // a duplicated slice
        out = Buffer.concat([out, out.subarray(at, at + prng.int(1, 64))]);
    }
  }
  return out;
}

const STRINGS = ['', ' ', '0', '-1', 'null', 'undefined', '\u0000', '\ud800', '😀', 'x'.repeat(5000), '<script>', '%00', '../../etc', '1e309', 'NaN', '+15550100', 'AC' + '0'.repeat(32)];

/** A random JSON-ish value of bounded depth. */
export function randomValue(prng: Prng, depth = 3): unknown {
  switch (prng.int(0, depth > 0 ? 7 : 4)) {
    case 0:
      return null;
    case 1:
      return prng.next() < 0.5;
    case 2:
      return prng.pick([0, -1, 1.5, Number.MAX_SAFE_INTEGER, -0, 1e308, prng.int(-1e6, 1e6)]);
    case 3:
      return prng.pick(STRINGS);
    case 4:
      return prng.bytes(prng.int(0, 12)).toString('latin1');
    case 5:
    case 6: {
      const out: Record<string, unknown> = {};
      for (let i = prng.int(0, 5); i > 0; i--) out[prng.pick(['type', 'event', 'text', 'user', 'channel', 'ts', 'files', prng.bytes(3).toString('hex')])] = randomValue(prng, depth - 1);
      return out;
    }
    default:
      return Array.from({ length: prng.int(0, 4) }, () => randomValue(prng, depth - 1));
  }
}

/** A mutated copy of a JSON value: a field removed, retyped or replaced somewhere in it. */
export function mutateValue(prng: Prng, value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 6) return prng.next() < 0.3 ? randomValue(prng, 2) : value;
  if (Array.isArray(value)) {
    const copy = value.map((v) => (prng.next() < 0.3 ? mutateValue(prng, v, depth + 1) : v));
    if (prng.next() < 0.2) copy.push(randomValue(prng, 2));
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const key of Object.keys(copy)) {
    const roll = prng.next();
    if (roll < 0.1) delete copy[key];
    else if (roll < 0.25) copy[key] = randomValue(prng, 2);
    else if (roll < 0.6) copy[key] = mutateValue(prng, copy[key], depth + 1);
  }
  return copy;
}
