/**
 * Per-message bookkeeping for one run: when each message was meant to go,
 * when it went, when the sender's ack and the receiver's push came, and how
 * often each arrived. Times are performance.now() milliseconds in this
 * process, which hosts both the senders and the receivers (the server under
 * test runs in a child process). Every path carries the same text, from
 * which a receiver recovers the run and the sequence number.
 */

const TEXT = /^bench (\S+) message #(\d+):/;
const PENDING = 0;
const ACKED = 1;
const NACKED = 2;

export class Tracker {
  readonly intended: Float64Array;
  readonly sentAt: Float64Array;
  readonly ackAt: Float64Array;
  readonly receivedAt: Float64Array;
  readonly receivedCount: Uint16Array;
  private readonly ackState: Uint8Array;
  private readonly citizenOf: Int32Array;
  private readonly isSettled: Uint8Array;
  private readonly lastSeqOfCitizen = new Map<number, number>();
  private settledCount = 0;
  private oldestCursor = 0;

  /** Messages sent; they carry sequence numbers 0 .. sent-1. */
  sent = 0;
  acked = 0;
  /** Acks that answered an error. */
  nacked = 0;
  /** Distinct messages seen by an agent. */
  received = 0;
  /** Extra copies seen by an agent. */
  duplicates = 0;
  /** Messages an agent saw after a later message of the same citizen. */
  reordered = 0;
  /** Received messages with this run's tag that do not match a sent message. */
  unknown = 0;
  readonly errors = new Map<string, number>();
  /** Called once per message when it settles: first seen by a receiver, or refused. */
  onSettled: (seq: number) => void = () => undefined;

  constructor(
    readonly tag: string,
    readonly capacity: number,
  ) {
    this.intended = new Float64Array(capacity);
    this.sentAt = new Float64Array(capacity);
    this.ackAt = new Float64Array(capacity);
    this.receivedAt = new Float64Array(capacity);
    this.receivedCount = new Uint16Array(capacity);
    this.ackState = new Uint8Array(capacity);
    this.citizenOf = new Int32Array(capacity).fill(-1);
    this.isSettled = new Uint8Array(capacity);
  }

  clientId(seq: number): string {
    return `${this.tag}-${seq}`;
  }

  text(seq: number): string {
    return `bench ${this.tag} message #${seq}: still here, please hurry`;
  }

  /** The sequence number in one of this run's client ids, or undefined. */
  seqOf(clientId: string): number | undefined {
    if (!clientId.startsWith(`${this.tag}-`)) return undefined;
    const seq = Number(clientId.slice(this.tag.length + 1));
    return Number.isInteger(seq) ? seq : undefined;
  }

  /** The run tag and sequence number a bench text carries, or undefined for any other text. */
  static parse(text: string): { tag: string; seq: number } | undefined {
    const m = TEXT.exec(text);
    return m ? { tag: m[1]!, seq: Number(m[2]) } : undefined;
  }

  recordSend(seq: number, citizen: number, intended: number, at: number): void {
    this.intended[seq] = intended;
    this.sentAt[seq] = at;
    this.citizenOf[seq] = citizen;
    this.sent++;
  }

  recordAck(seq: number, ok: boolean, at: number, error?: string): void {
    if (this.ackState[seq] !== PENDING) return;
    this.ackAt[seq] = at;
    this.ackState[seq] = ok ? ACKED : NACKED;
    if (ok) {
      this.acked++;
      return;
    }
    this.nacked++;
    const key = error ?? 'unknown';
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
    this.settle(seq);
  }

  /** A receiver saw message `seq` of this run with `body`. */
  recordReceive(seq: number, body: string, at: number): void {
    if (seq >= this.capacity || this.citizenOf[seq] === -1 || body !== this.text(seq)) {
      this.unknown++;
      return;
    }
    const count = ++this.receivedCount[seq]!;
    if (count > 1) {
      this.duplicates++;
      return;
    }
    this.receivedAt[seq] = at;
    this.received++;
    const citizen = this.citizenOf[seq]!;
    const last = this.lastSeqOfCitizen.get(citizen) ?? -1;
    if (seq < last) this.reordered++;
    else this.lastSeqOfCitizen.set(citizen, seq);
    this.settle(seq);
  }

  private settle(seq: number): void {
    if (this.isSettled[seq]) return;
    this.isSettled[seq] = 1;
    this.settledCount++;
    this.onSettled(seq);
  }

  /** Messages settled so far: grows while the gateway makes progress. */
  progress(): number {
    return this.settledCount;
  }

  /** Sent but not yet seen by an agent nor refused. */
  backlog(): number {
    return this.sent - this.settledCount;
  }

  /** Acks still outstanding. */
  pendingAcks(): number {
    return this.sent - this.acked - this.nacked;
  }

  /** Every sent message is acked or refused, and every one not refused was seen by an agent. */
  settled(): boolean {
    return this.pendingAcks() === 0 && this.settledCount === this.sent;
  }

  /** Intended send time of the oldest unsettled message, or undefined. */
  oldestPending(): number | undefined {
    while (this.oldestCursor < this.sent && this.isSettled[this.oldestCursor]) this.oldestCursor++;
    return this.oldestCursor < this.sent ? this.intended[this.oldestCursor] : undefined;
  }

  /** Whether the citizen's ack confirmed the message as stored. */
  wasAcked(seq: number): boolean {
    return this.ackState[seq] === ACKED;
  }

  /** Sequence numbers sent and never seen by an agent. */
  missing(): number[] {
    const out: number[] = [];
    for (let seq = 0; seq < this.sent; seq++) if (this.receivedCount[seq] === 0) out.push(seq);
    return out;
  }

  /** End-to-end latencies (intended send → agent socket), ascending, in ms. */
  endToEnd(): Float64Array {
    return this.collect((seq) => (this.receivedCount[seq]! > 0 ? this.receivedAt[seq]! - this.intended[seq]! : undefined));
  }

  /** Ingest latencies (intended send → citizen's ack, sent after commit and enqueue), ascending, in ms. */
  ackLatency(): Float64Array {
    return this.collect((seq) => (this.ackState[seq] === ACKED ? this.ackAt[seq]! - this.intended[seq]! : undefined));
  }

  /**
   * The run cut into windows of intended send time: for each, the latencies
   * end to end and after the ack (agent socket minus ack: queue, worker,
   * push), ascending, in ms. Shows whether a tail is spread out or comes
   * from a few bad moments.
   */
  windows(windowMs: number): Array<{ endToEnd: Float64Array; afterAck: Float64Array }> {
    const e2e: number[][] = [];
    const after: number[][] = [];
    const first = this.intended[0] ?? 0;
    for (let seq = 0; seq < this.sent; seq++) {
      if (this.receivedCount[seq] === 0) continue;
      const w = Math.floor((this.intended[seq]! - first) / windowMs);
      (e2e[w] ??= []).push(this.receivedAt[seq]! - this.intended[seq]!);
      if (this.ackState[seq] === ACKED) (after[w] ??= []).push(this.receivedAt[seq]! - this.ackAt[seq]!);
    }
    const sorted = (xs: number[] | undefined) => Float64Array.from(xs ?? []).sort();
    return Array.from({ length: e2e.length }, (_, w) => ({ endToEnd: sorted(e2e[w]), afterAck: sorted(after[w]) }));
  }

  /** Worst lag between a message's intended and actual send, in ms (the pacer's own delay). */
  maxSendLag(): number {
    let worst = 0;
    for (let seq = 0; seq < this.sent; seq++) worst = Math.max(worst, this.sentAt[seq]! - this.intended[seq]!);
    return worst;
  }

  /** First intended send and last agent receipt, for throughput. */
  window(): { start: number; end: number } {
    let start = Infinity;
    let end = -Infinity;
    for (let seq = 0; seq < this.sent; seq++) {
      start = Math.min(start, this.intended[seq]!);
      if (this.receivedCount[seq]! > 0) end = Math.max(end, this.receivedAt[seq]!);
    }
    return { start, end };
  }

  private collect(value: (seq: number) => number | undefined): Float64Array {
    const out: number[] = [];
    for (let seq = 0; seq < this.sent; seq++) {
      const v = value(seq);
      if (v !== undefined) out.push(v);
    }
    return Float64Array.from(out).sort();
  }
}
