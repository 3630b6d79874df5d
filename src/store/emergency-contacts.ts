/**
 * Emergency contacts: who is e-mailed when an agent flags an emergency, per
 * queue or per agent (exactly one of the two, checked by the API).
 */
import { and, asc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { emergencyContacts, events } from './schema.ts';

export type EmergencyContact = typeof emergencyContacts.$inferSelect;

/** Contacts, all or those of one queue and/or one agent, oldest first. */
export async function listEmergencyContacts(db: DbOrTx, filter: { queueId?: string; agentId?: string } = {}): Promise<EmergencyContact[]> {
  const where: SQL[] = [];
  if (filter.queueId) where.push(eq(emergencyContacts.queueId, filter.queueId));
  if (filter.agentId) where.push(eq(emergencyContacts.agentId, filter.agentId));
  return db
    .select()
    .from(emergencyContacts)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(asc(emergencyContacts.createdAt), asc(emergencyContacts.id));
}

export async function insertEmergencyContact(
  db: DbOrTx,
  input: { queueId: string | null; agentId: string | null; name: string; email: string },
): Promise<EmergencyContact> {
  const [row] = await db.insert(emergencyContacts).values(input).returning();
  if (!row) throw new Error('emergency contact insert returned nothing');
  return row;
}

/** Deletes a contact; false when there was none. */
export async function deleteEmergencyContact(db: DbOrTx, id: string): Promise<boolean> {
  const rows = await db.delete(emergencyContacts).where(eq(emergencyContacts.id, id)).returning({ id: emergencyContacts.id });
  return rows.length > 0;
}

/**
 * Who to tell about an emergency flagged in a conversation of `queueId` by
 * `agentId`: the queue's contacts, then the agent's, one per e-mail address.
 */
export async function emergencyContactsFor(db: DbOrTx, o: { queueId: string; agentId: string }): Promise<EmergencyContact[]> {
  const rows = await db
    .select()
    .from(emergencyContacts)
    .where(or(eq(emergencyContacts.queueId, o.queueId), eq(emergencyContacts.agentId, o.agentId)))
    .orderBy(sql`${emergencyContacts.agentId} is not null`, asc(emergencyContacts.createdAt), asc(emergencyContacts.id));
  const seen = new Set<string>();
  return rows.filter((r) => {
    const key = r.email.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * How far e-mailing a conversation's emergency contacts got: the contacts
 * already e-mailed (a retried job skips them) and whether it finished
 * (e-mailed all, or skipped without SMTP).
 */
export async function emergencyMailProgress(db: DbOrTx, conversationId: string): Promise<{ emailed: Set<string>; finished: boolean }> {
  const rows = await db
    .select({ type: events.type, data: events.data })
    .from(events)
    .where(
      and(
        eq(events.conversationId, conversationId),
        inArray(events.type, ['emergency_contact.emailed', 'emergency_contacts.emailed', 'emergency_contacts.skipped']),
      ),
    );
  return {
    emailed: new Set(rows.filter((r) => r.type === 'emergency_contact.emailed').map((r) => String(r.data.contactId))),
    finished: rows.some((r) => r.type !== 'emergency_contact.emailed'),
  };
}
