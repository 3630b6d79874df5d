/**
 * Durable reassembly of concatenated SMS on one link. Parts live in
 * PostgreSQL (`sms_parts`), so a part acknowledged to the carrier survives a
 * crash; this class turns a group of stored parts into one message for
 * ingest when the last part arrives, or, from the periodic sweep, once the
 * first part has waited `partsTimeoutMs` (with a gap marker per run of
 * missing parts).
 *
 * The text and the idempotency key come from reassembly.ts: the stored parts
 * are replayed through a throw-away {@link Reassembler}, so joining runs of
 * parts before decoding, gap markers and the content-derived key are the
 * tested ones. The key depends only on the link, the addresses, the
 * reference and the parts' bytes: a carrier re-sending the parts (after a
 * lost response, or to another process after a crash) yields the same key,
 * and ingest stores the message once.
 *
 * Assembly runs one group at a time per link (a promise chain), so the part
 * that completes a group and the sweep never hand the same message over
 * twice in one process; across processes ingest's key dedupes.
 */
import type { AdapterDeps } from '../types.ts';
import type { Logger } from '../../src/log.ts';
import { listDueGroups, listWaitingParts, markPartsAssembled, purgeAssembledParts, type SmsPartGroup } from '../../src/store/sms-parts.ts';
import type { SmsPartRow } from '../../src/store/schema.ts';
import type { DecodeOptions } from './encoding.ts';
import { Reassembler, type AssembledMessage } from './reassembly.ts';
import type { Counters } from './session.ts';
import type { ConcatKind } from './udh.ts';
import { ingestText } from './normalise.ts';

/** How long assembled parts are kept to recognise a carrier's late repeats. */
export const ASSEMBLED_PARTS_KEEP_MS = 24 * 3600_000;
const PURGE_EVERY_MS = 10 * 60_000;

/** What the assembler needs from its link. */
export interface AssemblerContext {
  linkId: string;
  deps: Pick<AdapterDeps, 'db' | 'receive' | 'maxMessageChars'>;
  log: Logger;
  counters: Counters;
  decode: DecodeOptions;
  partsTimeoutMs: number;
}

const CONCAT_KINDS: readonly string[] = ['udh8', 'udh16', 'sar'] satisfies ConcatKind[];

/** Assembles stored parts into messages; see the module comment. */
export class PartAssembler {
  private chain: Promise<void> = Promise.resolve();
  private lastPurge = 0;

  constructor(private readonly ctx: AssemblerContext) {}

  /** Queues the group for assembly if all its parts are stored (called after a part is stored). */
  kick(group: SmsPartGroup): void {
    this.enqueue(() => this.assemble(group, false));
  }

  /** Delivers every group that is complete or timed out; resolves when done. Errors are logged, not thrown. */
  sweep(): Promise<void> {
    return this.enqueue(async () => {
      const groups = await listDueGroups(this.ctx.deps.db, this.ctx.linkId, this.ctx.partsTimeoutMs);
      for (const group of groups) await this.assemble(group, true);
      if (Date.now() - this.lastPurge >= PURGE_EVERY_MS) {
        this.lastPurge = Date.now();
        const purged = await purgeAssembledParts(this.ctx.deps.db, this.ctx.linkId, ASSEMBLED_PARTS_KEEP_MS);
        if (purged > 0) this.ctx.log.debug({ purged }, 'old assembled SMS parts purged');
      }
    });
  }

  /** Resolves once everything queued so far has run. */
  idle(): Promise<void> {
    return this.chain;
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(task).catch((err: unknown) => {
      this.ctx.log.error({ err }, 'SMS part assembly failed; the sweep retries it');
    });
    return this.chain;
  }

  /** Hands the group's message to ingest when complete (or `due`: timed out), then marks its parts. */
  private async assemble(group: SmsPartGroup, due: boolean): Promise<void> {
    const rows = await listWaitingParts(this.ctx.deps.db, group);
    if (rows.length === 0) return;
    const complete = new Set(rows.map((r) => r.concatSeq)).size >= group.concatTotal;
    if (!complete && !due) return;
    const message = this.replay(group, rows);
    const receivedAt = new Date(Math.min(...rows.map((r) => r.receivedAt.getTime())));
    const result = await this.ctx.deps.receive({
      channel: 'sms',
      channelLinkId: this.ctx.linkId,
      from: group.source,
      channelMessageId: message.key,
      text: ingestText(message.text, this.ctx.deps.maxMessageChars),
      receivedAt,
    });
    await markPartsAssembled(
      this.ctx.deps.db,
      rows.map((r) => r.id),
      result.messageId,
    );
    const counter = result.duplicate ? 'duplicates' : 'messagesIn';
    this.ctx.counters[counter] = (this.ctx.counters[counter] ?? 0) + 1;
    if (!message.complete) this.ctx.counters.partialMessages = (this.ctx.counters.partialMessages ?? 0) + 1;
    this.ctx.log.info(
      { parts: group.concatTotal, missing: message.missing.length, duplicate: result.duplicate, messageId: result.messageId },
      message.complete ? 'concatenated SMS assembled' : 'concatenated SMS delivered with parts missing',
    );
  }

  /** Runs the stored parts through a Reassembler: first copy of a part wins, text joined and decoded there. */
  private replay(group: SmsPartGroup, rows: readonly SmsPartRow[]): AssembledMessage {
    if (!CONCAT_KINDS.includes(group.concatKind)) throw new Error(`unknown concatenation kind ${group.concatKind}`);
    const kind = group.concatKind as ConcatKind;
    const reassembler = new Reassembler({ timeoutMs: Number.MAX_SAFE_INTEGER, decode: this.ctx.decode, now: () => 0 });
    for (const row of rows) {
      const { ready } = reassembler.accept({
        partId: String(row.id),
        linkId: group.linkId,
        source: group.source,
        destination: group.destination,
        dataCoding: row.dataCoding,
        payload: row.payload,
        concat: { kind, reference: group.concatRef, total: group.concatTotal, sequence: row.concatSeq },
      });
      if (ready[0]) return ready[0];
    }
    const flushed = reassembler.flushAll()[0];
    if (!flushed) throw new Error('no parts to assemble');
    return flushed;
  }
}
