/**
 * The minimal reporting export: conversations opened in a period with their
 * metadata and message counts. Bodies only for conversations that are not
 * confidential (and not purged): a confidential conversation keeps its
 * metadata in reports, never its content.
 */
import { sql } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';

export interface ReportMessage {
  id: number;
  direction: string;
  body: string;
  createdAt: string;
}

export interface ConversationReportRow {
  id: string;
  channel: string;
  queue: string | null;
  status: string;
  priority: number;
  confidential: boolean;
  emergency: boolean;
  openedAt: string;
  firstOfferedAt: string | null;
  acceptedAt: string | null;
  firstResponseAt: string | null;
  resolvedAt: string | null;
  resolution: string | null;
  agent: { id: string; username: string; displayName: string } | null;
  messageCounts: { inbound: number; outbound: number; system: number; note: number; total: number };
  /** Absent for confidential conversations. */
  messages?: ReportMessage[];
}

const MAX_ROWS = 10_000;

/** Conversations opened in [from, to), oldest first (at most 10 000). */
export async function reportConversations(db: DbOrTx, range: { from: Date; to: Date }): Promise<ConversationReportRow[]> {
  const rows = (await db.execute(sql`
    select c.id, c.channel, q.name as queue, c.status, c.priority, c.confidential, c.emergency,
           c.opened_at, c.first_offered_at, c.accepted_at, c.first_response_at, c.resolved_at, c.resolution,
           a.id as agent_id, a.username as agent_username, a.display_name as agent_name,
           coalesce(mc.inbound, 0)::int as inbound, coalesce(mc.outbound, 0)::int as outbound,
           coalesce(mc.system, 0)::int as system, coalesce(mc.note, 0)::int as note,
           case when c.confidential then null else mb.bodies end as bodies
      from conversations c
      left join queues q on q.id = c.queue_id
      left join agents a on a.id = c.agent_id
      left join lateral (
        select count(*) filter (where direction = 'inbound') as inbound,
               count(*) filter (where direction = 'outbound') as outbound,
               count(*) filter (where direction = 'system') as system,
               count(*) filter (where direction = 'note') as note
          from messages m where m.conversation_id = c.id) mc on true
      left join lateral (
        select coalesce(jsonb_agg(jsonb_build_object('id', m.id, 'direction', m.direction, 'body', m.body, 'createdAt', m.created_at)
                                  order by m.id), '[]'::jsonb) as bodies
          from messages m where m.conversation_id = c.id and m.purged_at is null and not c.confidential) mb on true
     where c.opened_at >= ${range.from.toISOString()}::timestamptz and c.opened_at < ${range.to.toISOString()}::timestamptz
     order by c.opened_at, c.id
     limit ${MAX_ROWS}`)) as unknown as Array<Record<string, unknown>>;
  const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
  return rows.map((r) => {
    const counts = { inbound: Number(r.inbound), outbound: Number(r.outbound), system: Number(r.system), note: Number(r.note) };
    const row: ConversationReportRow = {
      id: r.id as string,
      channel: r.channel as string,
      queue: (r.queue as string | null) ?? null,
      status: r.status as string,
      priority: Number(r.priority),
      confidential: Boolean(r.confidential),
      emergency: Boolean(r.emergency),
      openedAt: iso(r.opened_at) as string,
      firstOfferedAt: iso(r.first_offered_at),
      acceptedAt: iso(r.accepted_at),
      firstResponseAt: iso(r.first_response_at),
      resolvedAt: iso(r.resolved_at),
      resolution: (r.resolution as string | null) ?? null,
      agent: r.agent_id ? { id: r.agent_id as string, username: r.agent_username as string, displayName: r.agent_name as string } : null,
      messageCounts: { ...counts, total: counts.inbound + counts.outbound + counts.system + counts.note },
    };
    if (!row.confidential) {
      row.messages = ((r.bodies as ReportMessage[] | null) ?? []).map((m) => ({ ...m, createdAt: new Date(m.createdAt).toISOString() }));
    }
    return row;
  });
}
