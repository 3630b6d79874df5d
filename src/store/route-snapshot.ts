/**
 * The routing worker's hot path in two prepared statements: everything a
 * route job needs about its outbox row, conversation, message and the
 * conversation's queue timings in one round trip, and the acknowledgement. Raw postgres.js (prepared by name)
 * rather than drizzle's query builder, which cost most of a message's CPU.
 *
 * The client is shared with drizzle, which turns off date parsing: times are
 * selected as ISO 8601 text.
 */
import type postgres from 'postgres';
import type { Channel, ConversationStatus, DeliveryStatus, Direction } from '../domain/types.ts';
import type { MessageView } from '../realtime/events.ts';
import { toAttachmentViews } from './conversations.ts';
import type { Attachment } from './schema.ts';
import { createBatcher } from './batch.ts';

export interface RouteSnapshot {
  processed: boolean;
  conversation: {
    id: string;
    status: ConversationStatus;
    agentId: string | null;
    queueId: string | null;
    priority: number;
    contactId: string;
    channel: Channel;
    openedAt: Date;
    queuedAt: Date;
    lastMessageAt: Date;
    escalatedAt: Date | null;
  };
  /** The timings of the conversation's queue (the default queue while it has none); null without queues. */
  queue: { inactivityMinutes: number; answerTargetSeconds: number } | null;
  message: MessageView | null;
}

interface Row {
  outbox_id: string;
  processed: boolean;
  c_id: string;
  c_status: ConversationStatus;
  c_agent_id: string | null;
  c_queue_id: string | null;
  c_priority: number;
  c_contact_id: string;
  c_channel: Channel;
  c_opened_at: string;
  c_queued_at: string;
  c_last_message_at: string;
  c_escalated_at: string | null;
  q_inactivity_minutes: number | null;
  q_answer_target_seconds: number | null;
  m_id: string | null;
  m_direction: Direction | null;
  m_body: string | null;
  m_attachments: Attachment[] | string | null;
  m_delivery_status: DeliveryStatus | null;
  m_delivery_error: string | null;
  m_client_message_id: string | null;
  m_created_at: string | null;
  author_name: string | null;
}

/** Loads route jobs' outbox rows with their conversation and message, by outbox id. */
async function loadRows(sql: postgres.Sql, outboxIds: number[]): Promise<Map<number, RouteSnapshot>> {
  const rows = await sql<Row[]>`select * from lifeline_route_snapshots(${idArray(outboxIds)}::bigint[])`;
  return new Map(rows.map((r) => [Number(r.outbox_id), toSnapshot(r)]));
}

/** A Postgres array literal of ids (numbers only, so nothing to escape). */
const idArray = (ids: number[]) => `{${ids.map((id) => String(Math.trunc(id))).join(',')}}`;

function toSnapshot(r: Row): RouteSnapshot {
  const attachments: Attachment[] = typeof r.m_attachments === 'string' ? (JSON.parse(r.m_attachments) as Attachment[]) : (r.m_attachments ?? []);
  return {
    processed: r.processed,
    conversation: {
      id: r.c_id,
      status: r.c_status,
      agentId: r.c_agent_id,
      queueId: r.c_queue_id,
      priority: r.c_priority,
      contactId: r.c_contact_id,
      channel: r.c_channel,
      openedAt: new Date(r.c_opened_at),
      queuedAt: new Date(r.c_queued_at),
      lastMessageAt: new Date(r.c_last_message_at),
      escalatedAt: r.c_escalated_at === null ? null : new Date(r.c_escalated_at),
    },
    queue:
      r.q_inactivity_minutes === null || r.q_answer_target_seconds === null
        ? null
        : { inactivityMinutes: Number(r.q_inactivity_minutes), answerTargetSeconds: r.q_answer_target_seconds },
    message:
      r.m_id === null
        ? null
        : {
            id: Number(r.m_id),
            conversationId: r.c_id,
            direction: r.m_direction as Direction,
            body: r.m_body as string,
            attachments: toAttachmentViews(Number(r.m_id), attachments),
            deliveryStatus: r.m_delivery_status as DeliveryStatus,
            deliveryError: r.m_delivery_error,
            authorName: r.author_name,
            clientMessageId: r.m_client_message_id,
            createdAt: new Date(r.m_created_at as string).toISOString(),
          },
  };
}

export interface RouteStore {
  /** A route job's outbox row, conversation and message; undefined if the outbox row is gone. */
  load(outboxId: number): Promise<RouteSnapshot | undefined>;
  /** Marks a route job's outbox row done. */
  acknowledge(outboxId: number): Promise<void>;
}

export function createRouteStore(sql: postgres.Sql): RouteStore {
  const snapshots = createBatcher((ids: number[]) => loadRows(sql, ids));
  const acks = createBatcher(async (ids: number[]) => {
    // By primary key alone: with `and processed_at is null` PostgreSQL also read the pending-rows index,
    // which holds every acknowledged row until vacuum reaches it, so each acknowledgement got slower.
    await sql`update outbox set processed_at = coalesce(processed_at, now()) where id = any(${idArray(ids)}::bigint[])`;
    return new Map<number, true>();
  });
  return {
    load: (outboxId) => snapshots.load(outboxId),
    acknowledge: async (outboxId) => {
      await acks.load(outboxId);
    },
  };
}
