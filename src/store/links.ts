/**
 * Channel links (SMPP binds, mailboxes, accounts) and their leases.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Channel } from '../domain/types.ts';
import type { DbOrTx } from './db.ts';
import { channelLinks, linkLeases, type ChannelLinkRow, type LinkLeaseRow } from './schema.ts';

/** What the API shows of a link: never its secrets, only which are set. */
export interface LinkView {
  id: string;
  channel: Channel;
  name: string;
  settings: Record<string, unknown>;
  secretsSet: string[];
  enabled: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
  runner: { holder: string; expiresAt: string; status: Record<string, unknown> } | null;
}

export function toLinkView(link: ChannelLinkRow, lease?: LinkLeaseRow | null): LinkView {
  const live = lease && lease.expiresAt.getTime() > Date.now() ? lease : null;
  return {
    id: link.id,
    channel: link.channel,
    name: link.name,
    settings: link.settings,
    secretsSet: Object.keys(link.secrets).sort(),
    enabled: link.enabled,
    version: link.version,
    createdAt: link.createdAt.toISOString(),
    updatedAt: link.updatedAt.toISOString(),
    runner: live ? { holder: live.holder, expiresAt: live.expiresAt.toISOString(), status: live.status } : null,
  };
}

export async function listLinks(db: DbOrTx, channel?: Channel): Promise<Array<{ link: ChannelLinkRow; lease: LinkLeaseRow | null }>> {
  const rows = await db
    .select({ link: channelLinks, lease: linkLeases })
    .from(channelLinks)
    .leftJoin(linkLeases, eq(linkLeases.linkId, channelLinks.id))
    .where(and(isNull(channelLinks.deletedAt), channel ? eq(channelLinks.channel, channel) : undefined))
    .orderBy(asc(channelLinks.name));
  return rows;
}

export async function getLink(db: DbOrTx, id: string): Promise<{ link: ChannelLinkRow; lease: LinkLeaseRow | null } | undefined> {
  const [row] = await db
    .select({ link: channelLinks, lease: linkLeases })
    .from(channelLinks)
    .leftJoin(linkLeases, eq(linkLeases.linkId, channelLinks.id))
    .where(and(eq(channelLinks.id, id), isNull(channelLinks.deletedAt)));
  return row;
}

/** Inserts a link; undefined when the name is taken. */
export async function insertLink(
  db: DbOrTx,
  link: { channel: Channel; name: string; settings: Record<string, unknown>; secrets: Record<string, string>; enabled: boolean },
): Promise<ChannelLinkRow | undefined> {
  const [row] = await db.insert(channelLinks).values(link).onConflictDoNothing({ target: channelLinks.name }).returning();
  return row;
}

/** Changes a link and bumps its version (the runner restarts it). */
export async function updateLink(
  db: DbOrTx,
  id: string,
  patch: Partial<Pick<ChannelLinkRow, 'name' | 'settings' | 'secrets' | 'enabled'>>,
): Promise<ChannelLinkRow | undefined> {
  const [row] = await db
    .update(channelLinks)
    .set({ ...patch, version: sql`${channelLinks.version} + 1`, updatedAt: sql`now()` })
    .where(and(eq(channelLinks.id, id), isNull(channelLinks.deletedAt)))
    .returning();
  return row;
}

export async function softDeleteLink(db: DbOrTx, id: string): Promise<boolean> {
  const rows = await db
    .update(channelLinks)
    .set({ deletedAt: sql`now()`, enabled: false, name: sql`${channelLinks.name} || ' (deleted ' || ${channelLinks.id} || ')'`, version: sql`${channelLinks.version} + 1` })
    .where(and(eq(channelLinks.id, id), isNull(channelLinks.deletedAt)))
    .returning({ id: channelLinks.id });
  return rows.length > 0;
}

/**
 * Takes or renews the lease on a link for `holder`; true if held afterwards.
 * Another holder's lease is taken only once it has expired.
 */
export async function acquireLease(db: DbOrTx, linkId: string, holder: string, ttlMs: number, status: Record<string, unknown>): Promise<boolean> {
  const expires = sql`now() + ${`${ttlMs} milliseconds`}::interval`;
  const rows = await db
    .insert(linkLeases)
    .values({ linkId, holder, expiresAt: expires, status })
    .onConflictDoUpdate({
      target: linkLeases.linkId,
      set: { holder, expiresAt: expires, status, updatedAt: sql`now()` },
      setWhere: sql`${linkLeases.holder} = ${holder} or ${linkLeases.expiresAt} < now()`,
    })
    .returning({ holder: linkLeases.holder });
  return rows.length > 0;
}

/** Gives a lease up at once (a clean stop), so another process need not wait for it to expire. */
export async function releaseLease(db: DbOrTx, linkId: string, holder: string): Promise<void> {
  await db.delete(linkLeases).where(and(eq(linkLeases.linkId, linkId), eq(linkLeases.holder, holder)));
}
