/**
 * The routing worker's hot path in two prepared statements: everything a
 * route job needs about its outbox row, conversation and message in one
 * round trip, and the acknowledgement. Raw postgres.js (prepared by name)
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
  };
  message: MessageView | null;
}

interface Row {
  processed: boolean;
  c_id: string;
  c_status: ConversationStatus;
  c_agent_id: string | null;
  c_queue_id: string | null;
  c_priority: number;
  c_contact_id: string;
  c_channel: Channel;
  c_opened_at: string;
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

/** Loads a route job's outbox row, conversation and message; undefined if the outbox row is gone. */
export async function loadRouteSnapshot(sql: postgres.Sql, outboxId: number): Promise<RouteSnapshot | undefined> {
  const [r] = await sql<Row[]>`
    select o.processed_at is not null as processed,
           c.id as c_id, c.status as c_status, c.agent_id as c_agent_id, c.queue_id as c_queue_id,
           c.priority as c_priority, c.contact_id as c_contact_id, c.channel as c_channel,
           to_json(c.opened_at) #>> '{}' as c_opened_at,
           m.id as m_id, m.direction as m_direction, m.body as m_body, m.attachments as m_attachments,
           m.delivery_status as m_delivery_status, m.delivery_error as m_delivery_error,
           m.client_message_id as m_client_message_id, to_json(m.created_at) #>> '{}' as m_created_at,
           a.display_name as author_name
      from outbox o
      join conversations c on c.id = o.conversation_id
      left join messages m on m.id = o.message_id
      left join agents a on a.id = m.author_agent_id
     where o.id = ${outboxId}`;
  if (!r) return undefined;
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
    },
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

/** Marks a route job's outbox row done. */
export async function acknowledgeRoute(sql: postgres.Sql, outboxId: number): Promise<void> {
  await sql`update outbox set processed_at = now() where id = ${outboxId} and processed_at is null`;
}
