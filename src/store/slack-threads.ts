/**
 * Slack threading, read from the messages a Slack link stored: inbound
 * channel message ids are `<channel>:<ts>` (adapters/slack), so the citizen's
 * messages name the Slack channel and thread replies belong in.
 */
import { sql } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';

/**
 * The channel message id of the message a reply threads under: the
 * conversation's first inbound message on this link in the Slack channel the
 * citizen wrote from last. Undefined when the citizen wrote nothing there.
 */
export async function getSlackThreadAnchor(db: DbOrTx, conversationId: string, linkId: string): Promise<string | undefined> {
  const rows = await db.execute<{ channel_message_id: string }>(sql`
    with latest as (
      select split_part(m.channel_message_id, ':', 1) as channel from messages m
       where m.conversation_id = ${conversationId} and m.channel_link_id = ${linkId}
         and m.direction = 'inbound' and m.channel_message_id is not null
       order by m.id desc limit 1)
    select m.channel_message_id from messages m, latest
     where m.conversation_id = ${conversationId} and m.channel_link_id = ${linkId}
       and m.direction = 'inbound' and split_part(m.channel_message_id, ':', 1) = latest.channel
     order by m.id asc limit 1`);
  return rows[0]?.channel_message_id;
}
