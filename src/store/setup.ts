/**
 * First-start set-up: the default queue and routing rules, the web-chat link
 * and the first administrator (with a generated password, printed once).
 * Idempotent: later starts change nothing.
 */
import { eq, sql } from 'drizzle-orm';
import { hashPassword, randomSecret } from '../auth/passwords.ts';
import type { Db } from './db.ts';
import { agents, channelLinks, queues, routingRules } from './schema.ts';

export interface SetupResult {
  defaultQueueId: string;
  webchatLinkId: string;
  /** Set only when this start created the administrator with a generated password. */
  generatedAdminPassword?: string;
}

const DEFAULT_RULES = [
  { name: 'Weapons', kind: 'keyword', terms: ['weapon', 'gun', 'knife', 'shot', 'shooting', 'stabbed', 'armed'], priority: 100 },
  { name: 'Not breathing', kind: 'keyword', terms: ['not breathing', 'unconscious', 'heart attack', 'overdose', 'bleeding'], priority: 100 },
  { name: 'Fire', kind: 'keyword', terms: ['fire', 'smoke', 'burning', 'explosion'], priority: 90 },
  { name: 'Violence', kind: 'keyword', terms: ['intruder', 'attack', 'hurt', 'kidnapped', 'hiding'], priority: 80 },
  { name: 'Voice calls', kind: 'channel', terms: ['voice'], priority: 50 },
  { name: 'Repeat contact', kind: 'repeat_contact', terms: [], priority: 20, windowSeconds: 3600 },
] as const;

/** Ensures the defaults exist. */
export async function ensureDefaults(db: Db, admin: { username: string; password?: string }): Promise<SetupResult> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(7351003)`);
    let [queue] = await tx.select({ id: queues.id }).from(queues).where(eq(queues.isDefault, true));
    if (!queue) {
      [queue] = await tx
        .insert(queues)
        .values({ name: 'Emergency texts', description: 'Default queue for every channel', isDefault: true })
        .returning({ id: queues.id });
      await tx.insert(routingRules).values(
        DEFAULT_RULES.map((r, position) => ({ ...r, terms: [...r.terms], position, windowSeconds: 'windowSeconds' in r ? r.windowSeconds : null })),
      );
    }
    let [webchat] = await tx.select({ id: channelLinks.id }).from(channelLinks).where(eq(channelLinks.name, 'webchat'));
    if (!webchat) {
      [webchat] = await tx.insert(channelLinks).values({ channel: 'webchat', name: 'webchat' }).returning({ id: channelLinks.id });
    }
    const [anyAdmin] = await tx.select({ id: agents.id }).from(agents).where(eq(agents.role, 'admin')).limit(1);
    let generatedAdminPassword: string | undefined;
    if (!anyAdmin) {
      const password = admin.password ?? randomSecret(15);
      if (!admin.password) generatedAdminPassword = password;
      await tx.insert(agents).values({
        username: admin.username,
        displayName: 'Administrator',
        passwordHash: await hashPassword(password),
        role: 'admin',
      });
    }
    if (!queue || !webchat) throw new Error('default set-up failed');
    return { defaultQueueId: queue.id, webchatLinkId: webchat.id, generatedAdminPassword };
  });
}
