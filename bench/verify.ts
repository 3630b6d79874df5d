/**
 * What the store says about a run: every message stored exactly once, and
 * how much database and Redis work the run cost per message.
 */
import type { Redis } from 'ioredis';
import type { TestGateway } from '../test/support/gateway.ts';
import type { Tracker } from './tracker.ts';

export interface StoreCheck {
  /** Distinct messages of the run stored as inbound rows. */
  stored: number;
  /** Rows beyond the first for one message. */
  duplicateRows: number;
  /** Sent messages the store lacks. */
  notStored: number[];
  /** Of those, the ones the citizen's ack had confirmed (an ack before commit). */
  ackedNotStored: number;
}

/** Counts the run's inbound rows in `messages`, per client message id. */
export async function checkStore(gateway: TestGateway, tracker: Tracker): Promise<StoreCheck> {
  const rows = await gateway.store.sql<Array<{ id: string; n: number }>>`
    select client_message_id as id, count(*)::int as n
    from messages
    where direction = 'inbound' and client_message_id like ${`${tracker.tag}-%`}
    group by client_message_id`;
  const stored = new Set<number>();
  let duplicateRows = 0;
  for (const row of rows) {
    const seq = tracker.seqOf(row.id);
    if (seq !== undefined) stored.add(seq);
    duplicateRows += row.n - 1;
  }
  const notStored: number[] = [];
  for (let seq = 0; seq < tracker.sent; seq++) if (!stored.has(seq)) notStored.push(seq);
  const ackedNotStored = notStored.filter((seq) => tracker.wasAcked(seq)).length;
  return { stored: stored.size, duplicateRows, notStored, ackedNotStored };
}

export interface ServerCounters {
  /** Committed plus rolled-back transactions in the gateway's database (each lone statement is one). */
  pgTransactions: number;
  pgRowsInserted: number;
  pgRowsUpdated: number;
  /** Commands Redis processed (the whole server: nothing else should be using it). */
  redisCommands: number;
}

/**
 * Reads the counters. PostgreSQL publishes a backend's statistics at most
 * once a second, and only once it is idle, so read them a moment after the
 * load has stopped.
 */
export async function readCounters(gateway: TestGateway, redis: Redis): Promise<ServerCounters> {
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  const [pg] = await gateway.store.sql<Array<{ xacts: string; ins: string; upd: string }>>`
    select xact_commit + xact_rollback as xacts, tup_inserted as ins, tup_updated as upd
    from pg_stat_database where datname = current_database()`;
  const info = await redis.info('stats');
  const match = /total_commands_processed:(\d+)/.exec(info);
  return {
    pgTransactions: Number(pg?.xacts ?? 0),
    pgRowsInserted: Number(pg?.ins ?? 0),
    pgRowsUpdated: Number(pg?.upd ?? 0),
    redisCommands: Number(match?.[1] ?? 0),
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
  };
}
