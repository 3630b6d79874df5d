/**
 * Locations as records: every position known for a conversation is kept in
 * `locations` (newest last); `conversations.location` is the current one. A
 * location an agent typed or confirmed is never replaced automatically: later
 * automatic positions (browser, carrier, provider) go to the history only,
 * until an agent confirms one of them.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from './db.ts';
import { conversations, locations, type Location } from './schema.ts';
import { recordEvent } from './conversations.ts';
import type { LocationView } from '../realtime/events.ts';

export type LocationSource = Location['source'];

export type { LocationView };

export interface NewLocation {
  conversationId: string;
  source: LocationSource;
  latitude: number;
  longitude: number;
  uncertaintyMeters?: number | null;
  at: Date;
  /** The agent who typed it (source 'agent'); an agent's location is confirmed. */
  agentId?: string | null;
}

const toCurrent = (row: typeof locations.$inferSelect): Location => ({
  latitude: row.latitude,
  longitude: row.longitude,
  ...(row.uncertaintyMeters !== null ? { uncertaintyMeters: row.uncertaintyMeters } : {}),
  source: row.source,
  at: row.at.toISOString(),
});

/** Whether the conversation's current location was confirmed by an agent. */
async function hasConfirmed(db: DbOrTx, conversationId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: locations.id })
    .from(locations)
    .where(and(eq(locations.conversationId, conversationId), eq(locations.confirmed, true)))
    .limit(1);
  return row !== undefined;
}

/**
 * Stores a location in the history and makes it current unless an agent has
 * confirmed one (automatic sources), or always (source 'agent': typed by an
 * agent, confirmed). Returns the stored entry and whether it became current.
 */
export async function recordLocation(db: Db, input: NewLocation): Promise<{ id: number; current: boolean }> {
  const byAgent = input.source === 'agent';
  return db.transaction(async (tx) => {
    // Serialises location writes per conversation, so "is one confirmed?" cannot race a confirmation.
    const [conversation] = await tx.select({ id: conversations.id }).from(conversations).where(eq(conversations.id, input.conversationId)).for('update');
    if (!conversation) throw new Error(`conversation ${input.conversationId} not found`);
    const [row] = await tx
      .insert(locations)
      .values({
        conversationId: input.conversationId,
        source: input.source,
        latitude: input.latitude,
        longitude: input.longitude,
        uncertaintyMeters: input.uncertaintyMeters ?? null,
        at: input.at,
        confirmed: byAgent,
        agentId: input.agentId ?? null,
      })
      .returning();
    if (!row) throw new Error('location insert returned nothing');
    const current = byAgent || !(await hasConfirmed(tx, input.conversationId));
    if (current) await tx.update(conversations).set({ location: toCurrent(row) }).where(eq(conversations.id, input.conversationId));
    // The audit trail names the source, never the coordinates (content, purged by retention).
    await recordEvent(tx, {
      conversationId: input.conversationId,
      type: 'location.updated',
      actorType: byAgent ? 'agent' : input.source === 'browser' ? 'citizen' : 'system',
      actorId: input.agentId ?? null,
      data: { locationId: row.id, source: input.source, current },
    });
    return { id: row.id, current };
  });
}

/** An agent confirms a history entry: it becomes current and stays so until an agent changes it. */
export async function confirmLocation(db: Db, conversationId: string, locationId: number, agentId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.select({ id: conversations.id }).from(conversations).where(eq(conversations.id, conversationId)).for('update');
    const [row] = await tx
      .update(locations)
      .set({ confirmed: true, agentId: sql`coalesce(${locations.agentId}, ${agentId}::uuid)` })
      .where(and(eq(locations.id, locationId), eq(locations.conversationId, conversationId)))
      .returning();
    if (!row) return false;
    await tx.update(conversations).set({ location: toCurrent(row) }).where(eq(conversations.id, conversationId));
    await recordEvent(tx, {
      conversationId,
      type: 'location.confirmed',
      actorType: 'agent',
      actorId: agentId,
      data: { locationId, source: row.source },
    });
    return true;
  });
}

/** A conversation's location history, oldest first, the current entry marked. */
export async function listLocations(db: DbOrTx, conversationId: string): Promise<LocationView[]> {
  const [conversation] = await db.select({ location: conversations.location }).from(conversations).where(eq(conversations.id, conversationId));
  const rows = await db.select().from(locations).where(eq(locations.conversationId, conversationId)).orderBy(asc(locations.id));
  const cur = conversation?.location;
  // The current entry: the newest one matching the stored current location.
  let currentId: number | undefined;
  for (const r of rows) {
    if (cur && r.latitude === cur.latitude && r.longitude === cur.longitude && r.source === cur.source && r.at.toISOString() === cur.at) currentId = r.id;
  }
  return rows.map((r) => ({
    id: r.id,
    source: r.source,
    latitude: r.latitude,
    longitude: r.longitude,
    uncertaintyMeters: r.uncertaintyMeters,
    at: r.at.toISOString(),
    confirmed: r.confirmed,
    current: r.id === currentId,
    createdAt: r.createdAt.toISOString(),
  }));
}
