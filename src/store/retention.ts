/**
 * The retention policy: once a closed conversation is older than the
 * retention period (a shorter one for confidential conversations), its
 * content goes — message bodies and attachments blanked (`purged_at` set),
 * attachment contents no other message names deleted, the location history
 * and current location removed, e-mail full texts and call transcriptions
 * cleared. Rows, metadata and the events audit trail stay.
 *
 * Idempotent: safe to run on several processes at once and again after a crash.
 */
import { sql } from 'drizzle-orm';
import type { Db } from './db.ts';

export interface RetentionPolicy {
  /** Days after a conversation closed before its content is purged. */
  retentionDays: number;
  /** The same for confidential conversations. */
  confidentialRetentionDays: number;
}

export interface PurgeResult {
  conversations: number;
  messages: number;
  blobs: number;
  locations: number;
}

const BATCH = 500;

/** Purges the content of conversations past their retention; returns what it removed. */
export async function purgeExpiredContent(db: Db, policy: RetentionPolicy, now = new Date()): Promise<PurgeResult> {
  const total: PurgeResult = { conversations: 0, messages: 0, blobs: 0, locations: 0 };
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const due = (await tx.execute(sql`
        select c.id from conversations c
         where c.status in ('resolved', 'abandoned')
           and coalesce(c.resolved_at, c.last_message_at) <
               ${now.toISOString()}::timestamptz - make_interval(days => case when c.confidential
                 then ${policy.confidentialRetentionDays}::int else ${policy.retentionDays}::int end)
           and (c.location is not null
                or exists (select 1 from messages m where m.conversation_id = c.id and m.purged_at is null)
                or exists (select 1 from locations l where l.conversation_id = c.id))
         order by c.id
         limit ${BATCH}
         for update of c skip locked`)) as unknown as Array<{ id: string }>;
      if (due.length === 0) return undefined;
      const ids = due.map((r) => r.id);
      const idList = sql`array[${sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `)}]`;
      const hashes = (await tx.execute(sql`
        select distinct a->>'sha256' as sha256 from messages m, jsonb_array_elements(m.attachments) a
         where m.conversation_id = any(${idList}) and m.purged_at is null and a->>'sha256' is not null`)) as unknown as Array<{ sha256: string }>;
      const purged = (await tx.execute(sql`
        update messages set body = '', attachments = '[]'::jsonb, purged_at = ${now.toISOString()}::timestamptz, updated_at = now()
         where conversation_id = any(${idList}) and purged_at is null returning id`)) as unknown as Array<{ id: number }>;
      await tx.execute(sql`
        update email_inbound set full_text = null where message_id in (select id from messages where conversation_id = any(${idList}))`);
      await tx.execute(sql`
        update calls set transcription_text = null, recording_url = null where conversation_id = any(${idList})`);
      const locs = (await tx.execute(sql`delete from locations where conversation_id = any(${idList}) returning id`)) as unknown as unknown[];
      await tx.execute(sql`update conversations set location = null where id = any(${idList})`);
      let blobs = 0;
      if (hashes.length > 0) {
        const hashList = sql`array[${sql.join(hashes.map((h) => sql`${h.sha256}`), sql`, `)}]::text[]`;
        const deleted = (await tx.execute(sql`
          delete from attachment_blobs b where b.sha256 = any(${hashList})
             and not exists (select 1 from messages m where m.attachments @> jsonb_build_array(jsonb_build_object('sha256', b.sha256)))
          returning b.sha256`)) as unknown as unknown[];
        blobs = deleted.length;
      }
      for (const id of ids) {
        await tx.execute(sql`
          insert into events (conversation_id, type, actor_type, data)
          values (${id}::uuid, 'retention.purged', 'system', ${JSON.stringify({ at: now.toISOString() })}::jsonb)`);
      }
      return { conversations: ids.length, messages: purged.length, blobs, locations: locs.length };
    });
    if (!batch) return total;
    total.conversations += batch.conversations;
    total.messages += batch.messages;
    total.blobs += batch.blobs;
    total.locations += batch.locations;
    if (batch.conversations < BATCH) return total;
  }
}
