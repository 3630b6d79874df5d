/**
 * Attachment contents: kept once per distinct content in `attachment_blobs`,
 * named by SHA-256. A message row carries only name, type, size and hash, so
 * conversations load without the photos; the console fetches each on demand.
 *
 * Contents are written before the message that names them (a crash between
 * leaves an unreferenced blob, never a message pointing at nothing).
 */
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { attachmentBlobs, type Attachment } from './schema.ts';

/** An attachment as a channel received it, content included. */
export interface IncomingAttachment {
  name: string;
  contentType: string;
  content: Buffer;
}

/** Stores each content once and returns what message rows keep of them. */
export async function putAttachments(db: DbOrTx, items: IncomingAttachment[]): Promise<Attachment[]> {
  if (items.length === 0) return [];
  const rows = items.map((item) => ({
    sha256: createHash('sha256').update(item.content).digest('hex'),
    size: item.content.length,
    data: item.content,
  }));
  const distinct = [...new Map(rows.map((r) => [r.sha256, r])).values()];
  await db.insert(attachmentBlobs).values(distinct).onConflictDoNothing();
  return items.map((item, i) => ({ name: item.name, contentType: item.contentType, size: item.content.length, sha256: rows[i]!.sha256 }));
}

/** The stored content with this hash, or undefined. */
export async function getAttachmentContent(db: DbOrTx, sha256: string): Promise<Buffer | undefined> {
  const [row] = await db.select({ data: attachmentBlobs.data }).from(attachmentBlobs).where(eq(attachmentBlobs.sha256, sha256));
  return row?.data;
}
