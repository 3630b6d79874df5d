/**
 * Reassembly of concatenated SMS (UDH 8/16-bit reference or SAR TLVs).
 *
 * Design:
 * - Pure and clock-injected: no timers, no I/O. The link code calls
 *   {@link Reassembler.accept} per inbound part and {@link Reassembler.expire}
 *   when {@link Reassembler.nextDeadline} passes; tests pass the time.
 * - Parts are keyed by (link, source, destination, reference kind,
 *   reference, total). They may arrive in any order; a repeated part is
 *   ignored (the first copy wins) but its id is kept for acknowledgement.
 * - Nothing is dropped. A message whose parts are still missing
 *   `timeoutMs` after its first part arrived is delivered with a visible gap
 *   marker per run of missing parts. When the buffer exceeds `maxPending`
 *   messages or `maxBytes` of payload, the oldest incomplete message is
 *   delivered the same way.
 * - Text is decoded after joining the bytes of each run of consecutive parts
 *   that share a data coding, so a UTF-16 surrogate pair or a GSM-7 escape
 *   split across two parts still decodes.
 * - Idempotency: a concatenated message's {@link AssembledMessage.key} is a
 *   hash of the link, addresses, reference, total and each present part's
 *   sequence, data coding and bytes, so a carrier re-sending the same parts
 *   after a lost response yields the same key and ingest drops the
 *   duplicate. A part repeated after its message was delivered (within
 *   `rememberMs`) is answered with that message again (reason `repeat`,
 *   same key), so it never becomes a spurious fragment. A one-part message
 *   keeps the caller's `partId` as key: a carrier re-send of a one-part SMS
 *   cannot be told from a citizen sending the same words twice, and losing
 *   the second "help" is worse than showing a duplicate.
 * - Every delivered message lists the `partIds` it accounts for (repeats
 *   included), so the caller can answer each part's PDU once the message is
 *   committed.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../../src/errors.ts';
import { decodeShortMessage, type DecodeOptions } from './encoding.ts';
import type { ConcatInfo } from './udh.ts';

/** One inbound short message as the link received it, UDH already removed (see `extractPart`). */
export interface InboundPart {
  /** The caller's identity for this part, e.g. its per-PDU channel message id. */
  partId: string;
  linkId: string;
  source: string;
  destination: string;
  dataCoding: number;
  payload: Buffer;
  /** Absent (or total 1) for a message that is not concatenated. */
  concat?: ConcatInfo;
}

/** Why a message was delivered. */
export type AssemblyReason = 'single' | 'complete' | 'timeout' | 'overflow' | 'shutdown' | 'repeat';

/** A message ready for ingest: whole, or partial with gap markers. */
export interface AssembledMessage {
  /** Idempotency key (channel message id) for the whole message; see the module comment. */
  key: string;
  linkId: string;
  source: string;
  destination: string;
  text: string;
  complete: boolean;
  reason: AssemblyReason;
  /** The shared reference, for concatenated messages. */
  concat?: Omit<ConcatInfo, 'sequence'>;
  /** Sequence numbers present (1-based, ascending); `[1]` for a single message. */
  received: number[];
  /** Sequence numbers missing; empty when complete. */
  missing: number[];
  /** The caller's ids of every part this delivery accounts for, repeats included, in arrival order. */
  partIds: string[];
  /** Clock time the first part arrived. */
  firstReceivedAt: number;
}

/** What {@link Reassembler.accept} did with a part. */
export type PartOutcome = 'single' | 'pending' | 'completed' | 'repeat-pending' | 'repeat-delivered';

/** The result of {@link Reassembler.accept}. */
export interface AcceptResult {
  outcome: PartOutcome;
  /** Messages to ingest now, oldest first: this part's message if done, and any flushed by timeout or overflow. */
  ready: AssembledMessage[];
}

/** Marker text for missing parts `first`..`last` (1-based) of `total`. */
export type GapMarker = (first: number, last: number, total: number) => string;

/** The default gap marker: `[…part 2 of 3 missing…]`, `[…parts 2–3 of 5 missing…]`. */
export const defaultGapMarker: GapMarker = (first, last, total) =>
  first === last ? `[…part ${first} of ${total} missing…]` : `[…parts ${first}–${last} of ${total} missing…]`;

/** Reassembler settings; every field has a default. */
export interface ReassemblerOptions {
  /** How long after its first part an incomplete message waits (default 30 s). */
  timeoutMs?: number;
  /** Incomplete messages held at most (default 1000). */
  maxPending?: number;
  /** Payload bytes held at most across incomplete messages (default 1 MiB). */
  maxBytes?: number;
  /** How long a delivered concatenated message is remembered to absorb repeats (default 10 min). */
  rememberMs?: number;
  /** Delivered messages remembered at most (default 2000). */
  maxRemembered?: number;
  /** The clock (default `Date.now`). */
  now?: () => number;
  /** The link's decoding choices. */
  decode?: DecodeOptions;
  gapMarker?: GapMarker;
}

interface StoredPart {
  dataCoding: number;
  payload: Buffer;
}

interface Pending {
  linkId: string;
  source: string;
  destination: string;
  concat: Omit<ConcatInfo, 'sequence'>;
  parts: Map<number, StoredPart>;
  partIds: string[];
  bytes: number;
  firstReceivedAt: number;
}

interface Remembered {
  message: AssembledMessage;
  digests: Map<number, string>;
  expiresAt: number;
}

/** A bounded, clock-injected buffer that turns SMS parts into whole messages. See the module comment. */
export class Reassembler {
  private readonly pending = new Map<string, Pending>();
  private readonly remembered = new Map<string, Remembered>();
  private bytes = 0;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly maxBytes: number;
  private readonly rememberMs: number;
  private readonly maxRemembered: number;
  private readonly now: () => number;
  private readonly decode: DecodeOptions;
  private readonly gapMarker: GapMarker;

  constructor(options: ReassemblerOptions = {}) {
    this.timeoutMs = positive(options.timeoutMs ?? 30_000, 'timeoutMs');
    this.maxPending = positive(options.maxPending ?? 1000, 'maxPending');
    this.maxBytes = positive(options.maxBytes ?? 1024 * 1024, 'maxBytes');
    this.rememberMs = positive(options.rememberMs ?? 600_000, 'rememberMs');
    this.maxRemembered = positive(options.maxRemembered ?? 2000, 'maxRemembered');
    this.now = options.now ?? Date.now;
    this.decode = options.decode ?? {};
    this.gapMarker = options.gapMarker ?? defaultGapMarker;
  }

  /** Incomplete messages held. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Payload bytes held across incomplete messages. */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** When the oldest incomplete message times out, for the caller's one timer; undefined when none. */
  nextDeadline(): number | undefined {
    let earliest: number | undefined;
    for (const entry of this.pending.values()) {
      const deadline = entry.firstReceivedAt + this.timeoutMs;
      if (earliest === undefined || deadline < earliest) earliest = deadline;
    }
    return earliest;
  }

  /**
   * Takes one part. The result lists every message now ready, oldest first:
   * this part's message if it is done, and any others that timed out or were
   * flushed to stay within bounds.
   * @param now the arrival time (default: the injected clock).
   */
  accept(part: InboundPart, now: number = this.now()): AcceptResult {
    const ready: AssembledMessage[] = [];
    const outcome = this.take(part, now, ready);
    ready.push(...this.expire(now));
    while (this.pending.size > this.maxPending || this.bytes > this.maxBytes) {
      const oldest = this.pending.entries().next().value;
      if (!oldest) break;
      ready.push(this.deliver(oldest[0], oldest[1], 'overflow', now));
    }
    return { outcome, ready: ready.sort((a, b) => a.firstReceivedAt - b.firstReceivedAt) };
  }

  /** Delivers, with gap markers, every incomplete message whose first part is `timeoutMs` old; forgets stale repeats. */
  expire(now: number = this.now()): AssembledMessage[] {
    const ready: AssembledMessage[] = [];
    for (const [groupKey, entry] of this.pending) {
      if (entry.firstReceivedAt + this.timeoutMs <= now) ready.push(this.deliver(groupKey, entry, 'timeout', now));
    }
    for (const [groupKey, remembered] of this.remembered) {
      if (remembered.expiresAt <= now) this.remembered.delete(groupKey);
    }
    return ready;
  }

  /** Delivers everything held, e.g. when a link stops: partial messages are not lost with the process. */
  flushAll(now: number = this.now()): AssembledMessage[] {
    return [...this.pending].map(([groupKey, entry]) => this.deliver(groupKey, entry, 'shutdown', now));
  }

  /** Files the part; pushes its message to `ready` when it is done (or already was). */
  private take(part: InboundPart, now: number, ready: AssembledMessage[]): PartOutcome {
    const { concat } = part;
    if (!concat || concat.total <= 1) {
      ready.push(this.singleMessage(part, now));
      return 'single';
    }
    const groupKey = [part.linkId, part.source, part.destination, concat.kind, concat.reference, concat.total].join('\u0000');
    const repeat = this.findRepeat(groupKey, concat.sequence, part, now);
    if (repeat) {
      ready.push(repeat);
      return 'repeat-delivered';
    }
    let entry = this.pending.get(groupKey);
    if (!entry) {
      entry = {
        linkId: part.linkId,
        source: part.source,
        destination: part.destination,
        concat: { kind: concat.kind, reference: concat.reference, total: concat.total },
        parts: new Map(),
        partIds: [],
        bytes: 0,
        firstReceivedAt: now,
      };
      this.pending.set(groupKey, entry);
    }
    entry.partIds.push(part.partId);
    if (entry.parts.has(concat.sequence)) return 'repeat-pending';
    entry.parts.set(concat.sequence, { dataCoding: part.dataCoding, payload: part.payload });
    entry.bytes += part.payload.length;
    this.bytes += part.payload.length;
    if (entry.parts.size < concat.total) return 'pending';
    ready.push(this.deliver(groupKey, entry, 'complete', now));
    return 'completed';
  }

  private singleMessage(part: InboundPart, now: number): AssembledMessage {
    return {
      key: part.partId,
      linkId: part.linkId,
      source: part.source,
      destination: part.destination,
      text: decodeShortMessage(part.dataCoding, part.payload, this.decode),
      complete: true,
      reason: 'single',
      received: [1],
      missing: [],
      partIds: [part.partId],
      firstReceivedAt: now,
    };
  }

  /** A part identical to one of a recently delivered message: that message again, accounting for this part. */
  private findRepeat(groupKey: string, sequence: number, part: InboundPart, now: number): AssembledMessage | undefined {
    const remembered = this.remembered.get(groupKey);
    if (!remembered || remembered.expiresAt <= now) return undefined;
    if (remembered.digests.get(sequence) !== partDigest(part.dataCoding, part.payload)) return undefined;
    return { ...remembered.message, reason: 'repeat', partIds: [part.partId] };
  }

  private deliver(groupKey: string, entry: Pending, reason: AssemblyReason, now: number): AssembledMessage {
    this.pending.delete(groupKey);
    this.bytes -= entry.bytes;
    const { total } = entry.concat;
    const received = [...entry.parts.keys()].sort((a, b) => a - b);
    const missing: number[] = [];
    for (let sequence = 1; sequence <= total; sequence++) if (!entry.parts.has(sequence)) missing.push(sequence);
    const digests = new Map<number, string>();
    for (const sequence of received) {
      const stored = entry.parts.get(sequence);
      if (stored) digests.set(sequence, partDigest(stored.dataCoding, stored.payload));
    }
    const message: AssembledMessage = {
      key: messageKey(entry, digests),
      linkId: entry.linkId,
      source: entry.source,
      destination: entry.destination,
      text: this.assembleText(entry),
      complete: missing.length === 0,
      reason,
      concat: entry.concat,
      received,
      missing,
      partIds: entry.partIds,
      firstReceivedAt: entry.firstReceivedAt,
    };
    this.remembered.delete(groupKey);
    this.remembered.set(groupKey, { message, digests, expiresAt: now + this.rememberMs });
    while (this.remembered.size > this.maxRemembered) {
      const oldest = this.remembered.keys().next().value;
      if (oldest === undefined) break;
      this.remembered.delete(oldest);
    }
    return message;
  }

  /** Joins runs of consecutive parts with one data coding before decoding; one gap marker per run of missing parts. */
  private assembleText(entry: Pending): string {
    const { total } = entry.concat;
    let text = '';
    let sequence = 1;
    while (sequence <= total) {
      const first = sequence;
      const head = entry.parts.get(sequence);
      if (!head) {
        while (sequence <= total && !entry.parts.has(sequence)) sequence++;
        text += this.gapMarker(first, sequence - 1, total);
        continue;
      }
      const run: Buffer[] = [];
      for (let part: StoredPart | undefined = head; part?.dataCoding === head.dataCoding; part = entry.parts.get(++sequence)) {
        run.push(part.payload);
      }
      text += decodeShortMessage(head.dataCoding, Buffer.concat(run), this.decode);
    }
    return text;
  }
}

function positive(value: number, field: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new ValidationError(`${field} must be a positive number`, field);
  return value;
}

function partDigest(dataCoding: number, payload: Buffer): string {
  return createHash('sha256').update(String(dataCoding)).update('\u0000').update(payload).digest('hex');
}

/** `<kind>:<reference>:<total>:<hash>`; the hash covers link, addresses and the present parts' digests (no MSISDN in clear). */
function messageKey(entry: Pending, digests: ReadonlyMap<number, string>): string {
  const { kind, reference, total } = entry.concat;
  const hash = createHash('sha256');
  for (const field of [entry.linkId, entry.source, entry.destination, kind, String(reference), String(total)]) {
    hash.update(field).update('\u0000');
  }
  for (const [sequence, digest] of digests) hash.update(`${sequence}:${digest}\u0000`);
  return `${kind}:${reference}:${total}:${hash.digest('hex').slice(0, 32)}`;
}
