/**
 * Reports read from the `report_` views (migration 0013), the same figures a
 * BI tool signed in as `lifeline_reporting` sees. The views hold no message
 * bodies, so nothing here can leak a confidential conversation's content.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Channel, ConversationStatus } from '../domain/types.ts';
import type { DbOrTx } from './db.ts';

/** Conversations opened in [from, to), optionally on one channel, in one queue, in one status. */
export interface ReportFilter {
  from: Date;
  to: Date;
  channel?: Channel;
  queueId?: string;
  status?: ConversationStatus;
}

/** The figures of a set of conversations. Times in seconds; null when nothing to average. */
export interface ReportFigures {
  conversations: number;
  answered: number;
  abandoned: number;
  escalated: number;
  averageAnswerSeconds: number | null;
  answerSecondsP50: number | null;
  answerSecondsP90: number | null;
  averageHandleSeconds: number | null;
}

export interface ReportSummary {
  /** Agents signed in now (not offline, not disabled), whatever the range or filters. */
  agentsSignedIn: number;
  overall: ReportFigures;
  byChannel: Array<{ channel: string } & ReportFigures>;
  byQueue: Array<{ queueId: string | null; queueName: string | null } & ReportFigures>;
}

function whereOf(filter: ReportFilter): SQL {
  const conditions = [sql`opened_at >= ${filter.from.toISOString()}::timestamptz`, sql`opened_at < ${filter.to.toISOString()}::timestamptz`];
  if (filter.channel) conditions.push(sql`channel = ${filter.channel}`);
  if (filter.queueId) conditions.push(sql`queue_id = ${filter.queueId}::uuid`);
  if (filter.status) conditions.push(sql`status = ${filter.status}`);
  return sql.join(conditions, sql` and `);
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function figuresOf(r: Record<string, unknown>): ReportFigures {
  return {
    conversations: Number(r.conversations),
    answered: Number(r.answered),
    abandoned: Number(r.abandoned),
    escalated: Number(r.escalated),
    averageAnswerSeconds: num(r.avg_answer),
    answerSecondsP50: num(r.p50),
    answerSecondsP90: num(r.p90),
    averageHandleSeconds: num(r.avg_handle),
  };
}

const EMPTY: ReportFigures = {
  conversations: 0,
  answered: 0,
  abandoned: 0,
  escalated: 0,
  averageAnswerSeconds: null,
  answerSecondsP50: null,
  answerSecondsP90: null,
  averageHandleSeconds: null,
};

/** The summary of a range: overall, per channel and per queue, in one pass over the view. */
export async function reportSummary(db: DbOrTx, filter: ReportFilter): Promise<ReportSummary> {
  const rows = (await db.execute(sql`
    select grouping(channel) as by_all_channels, grouping(queue_id) as by_all_queues, channel, queue_id, queue_name,
           count(*)::int as conversations,
           count(*) filter (where answered)::int as answered,
           count(*) filter (where abandoned)::int as abandoned,
           count(*) filter (where escalated)::int as escalated,
           avg(answer_seconds) as avg_answer,
           percentile_cont(0.5) within group (order by answer_seconds) as p50,
           percentile_cont(0.9) within group (order by answer_seconds) as p90,
           avg(handle_seconds) as avg_handle
      from report_conversations
     where ${whereOf(filter)}
     group by grouping sets ((), (channel), (queue_id, queue_name))`)) as unknown as Array<Record<string, unknown>>;
  const [agents] = (await db.execute(sql`select count(*) filter (where signed_in)::int as n from report_agents`)) as unknown as Array<{ n: number }>;
  const summary: ReportSummary = { agentsSignedIn: Number(agents?.n ?? 0), overall: EMPTY, byChannel: [], byQueue: [] };
  for (const r of rows) {
    const allChannels = Number(r.by_all_channels) === 1;
    const allQueues = Number(r.by_all_queues) === 1;
    if (allChannels && allQueues) summary.overall = figuresOf(r);
    else if (!allChannels) summary.byChannel.push({ channel: r.channel as string, ...figuresOf(r) });
    else summary.byQueue.push({ queueId: (r.queue_id as string | null) ?? null, queueName: (r.queue_name as string | null) ?? null, ...figuresOf(r) });
  }
  summary.byChannel.sort((a, b) => a.channel.localeCompare(b.channel));
  summary.byQueue.sort((a, b) => (a.queueName ?? '').localeCompare(b.queueName ?? ''));
  return summary;
}

/** One UTC hour of `report_hourly`: conversations opened in it and their outcomes. */
export interface HourlyVolume {
  hour: string;
  conversations: number;
  answered: number;
  abandoned: number;
  escalated: number;
}

/** The hours of `report_hourly` that overlap [from, to), oldest first; hours without conversations are absent. */
export async function reportHourly(db: DbOrTx, range: { from: Date; to: Date }): Promise<HourlyVolume[]> {
  const rows = (await db.execute(sql`
    select hour, conversations, answered, abandoned, escalated
      from report_hourly
     where hour >= date_trunc('hour', ${range.from.toISOString()}::timestamptz at time zone 'UTC') at time zone 'UTC'
       and hour < ${range.to.toISOString()}::timestamptz
     order by hour`)) as unknown as Array<Record<string, unknown>>;
  return rows.map((r) => ({
    hour: new Date(r.hour as string).toISOString(),
    conversations: Number(r.conversations),
    answered: Number(r.answered),
    abandoned: Number(r.abandoned),
    escalated: Number(r.escalated),
  }));
}

/** The columns of `report_conversations`, in the view's order: the CSV export's header. */
export const REPORT_CONVERSATION_COLUMNS = [
  'conversation_id',
  'channel',
  'status',
  'priority',
  'emergency',
  'queue_id',
  'queue_name',
  'agent_id',
  'agent_name',
  'opened_at',
  'first_offered_at',
  'accepted_at',
  'first_response_at',
  'resolved_at',
  'escalated_at',
  'answer_seconds',
  'handle_seconds',
  'resolution',
  'answered',
  'abandoned',
  'escalated',
  'confidential',
  'inbound_messages',
  'outbound_messages',
  'system_messages',
  'note_messages',
] as const;

export type ReportConversationRow = Record<(typeof REPORT_CONVERSATION_COLUMNS)[number], unknown>;

const columnList = sql.raw(REPORT_CONVERSATION_COLUMNS.join(', '));

/**
 * Rows of `report_conversations` for a filter, oldest first, a page at a time
 * (keyset on opened_at and id, so a page costs the same however deep), for
 * exports of any size without holding them in memory.
 */
export async function* reportConversationPages(db: DbOrTx, filter: ReportFilter, pageSize = 1000): AsyncGenerator<ReportConversationRow[]> {
  // The cursor keeps opened_at to the microsecond: a JavaScript Date would round it and skip or repeat rows.
  let after: { at: string; id: string } | undefined;
  for (;;) {
    const keyset = after ? sql`and (opened_at, conversation_id) > (${after.at}::timestamptz, ${after.id}::uuid)` : sql``;
    const rows = (await db.execute(sql`
      select ${columnList}, to_char(opened_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
        from report_conversations
       where ${whereOf(filter)} ${keyset}
       order by opened_at, conversation_id
       limit ${pageSize}`)) as unknown as Array<ReportConversationRow & { cursor_at: string }>;
    if (rows.length === 0) return;
    const last = rows[rows.length - 1] as ReportConversationRow & { cursor_at: string };
    after = { at: last.cursor_at, id: last.conversation_id as string };
    yield rows;
    if (rows.length < pageSize) return;
  }
}

/** Open conversations not yet accepted (queued or offered) per queue, every queue listed. */
export async function countUnansweredByQueue(db: DbOrTx): Promise<Array<{ queue: string; waiting: number }>> {
  const rows = (await db.execute(sql`
    select q.name as queue, count(c.id)::int as waiting
      from queues q
      left join conversations c on c.queue_id = q.id and c.status in ('queued', 'offered')
     group by q.name
     order by q.name`)) as unknown as Array<{ queue: string; waiting: number }>;
  return rows.map((r) => ({ queue: r.queue, waiting: Number(r.waiting) }));
}
