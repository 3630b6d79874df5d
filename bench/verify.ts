/**
 * What the store says about a run: every message stored exactly once, and
 * how much database and Redis work the run cost per message.
 */
import type { Redis } from 'ioredis';
import type postgres from 'postgres';
import { Tracker } from './tracker.ts';

export interface StoreCheck {
  /** Distinct messages of the run stored. */
  stored: number;
  /** Rows beyond the first for one message. */
  duplicateRows: number;
  /** Sent messages the store lacks. */
  notStored: number[];
  /** Of those, the ones the sender's ack had confirmed (an ack before commit). */
  ackedNotStored: number;
}

/** Where a path stores inbound messages: Lifeline's `messages` (inbound rows) or the baseline's table. */
export type MessageTable = 'messages' | 'baseline_messages';

/** Counts the run's stored rows per message, recognising them by their text. */
export async function checkStore(sql: postgres.Sql, table: MessageTable, tracker: Tracker): Promise<StoreCheck> {
  const like = `bench ${tracker.tag} message #%`;
  const rows =
    table === 'messages'
      ? await sql<Array<{ body: string; n: number }>>`
          select body, count(*)::int as n from messages where direction = 'inbound' and body like ${like} group by body`
      : await sql<Array<{ body: string; n: number }>>`
          select body, count(*)::int as n from baseline_messages where body like ${like} group by body`;
  const stored = new Set<number>();
  let duplicateRows = 0;
  for (const row of rows) {
    const parsed = Tracker.parse(row.body);
    if (parsed?.tag === tracker.tag) stored.add(parsed.seq);
    duplicateRows += row.n - 1;
  }
  const notStored: number[] = [];
  for (let seq = 0; seq < tracker.sent; seq++) if (!stored.has(seq)) notStored.push(seq);
  const ackedNotStored = notStored.filter((seq) => tracker.wasAcked(seq)).length;
  return { stored: stored.size, duplicateRows, notStored, ackedNotStored };
}

export interface ServerCounters {
  /** Committed plus rolled-back transactions in the server's database (each lone statement is one). */
  pgTransactions: number;
  pgRowsInserted: number;
  pgRowsUpdated: number;
  /** Commands Redis processed (the whole server: shared with any other work on it). */
  redisCommands: number;
  /** Redis server CPU time (user + system), ms. */
  redisCpuMs: number;
}

/**
 * Reads the counters. PostgreSQL publishes a backend's statistics at most
 * once a second, and only once it is idle, so read them a moment after the
 * load has stopped.
 */
export async function readCounters(sql: postgres.Sql, redis: Redis): Promise<ServerCounters> {
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  const [pg] = await sql<Array<{ xacts: string; ins: string; upd: string }>>`
    select xact_commit + xact_rollback as xacts, tup_inserted as ins, tup_updated as upd
    from pg_stat_database where datname = current_database()`;
  const info = `${await redis.info('stats')}\n${await redis.info('cpu')}`;
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return {
    pgTransactions: Number(pg?.xacts ?? 0),
    pgRowsInserted: Number(pg?.ins ?? 0),
    pgRowsUpdated: Number(pg?.upd ?? 0),
    redisCommands: field('total_commands_processed'),
    redisCpuMs: (field('used_cpu_sys') + field('used_cpu_user')) * 1000,
  };
}

/** Per-message difference of two counter readings. */
export function perMessage(before: ServerCounters, after: ServerCounters, messages: number): ServerCounters {
  const per = (k: keyof ServerCounters) => (messages > 0 ? (after[k] - before[k]) / messages : 0);
  return {
    pgTransactions: per('pgTransactions'),
    pgRowsInserted: per('pgRowsInserted'),
    pgRowsUpdated: per('pgRowsUpdated'),
    redisCommands: per('redisCommands'),
    redisCpuMs: per('redisCpuMs'),
  };
}
