/**
 * Locations in the console: the history an agent sees, a location an agent
 * types (confirmed), an agent confirming an automatic one, and automatic
 * positions arriving from the citizen's browser or a provider. Every change is
 * pushed as `location:updated` to the conversation's consoles.
 */
import type { Actor } from '../auth/sessions.ts';
import { NotFoundError } from '../errors.ts';
import type { LocationView } from '../realtime/events.ts';
import type { Notifier } from '../realtime/notifier.ts';
import type { Db } from '../store/db.ts';
import { getConversation } from '../store/conversations.ts';
import { confirmLocation, listLocations, recordLocation, type NewLocation } from '../store/locations.ts';
import type { ConsoleService } from './service.ts';

export interface LocationServiceDeps {
  db: Db;
  notifier: Notifier;
  console: Pick<ConsoleService, 'authorize'>;
}

export class LocationService {
  constructor(private readonly deps: LocationServiceDeps) {}

  private async publish(conversationId: string): Promise<LocationView[]> {
    const locations = await listLocations(this.deps.db, conversationId);
    const conversation = await getConversation(this.deps.db, conversationId);
    this.deps.notifier.toAgents(
      { agentIds: [conversation?.agentId ?? null], conversationId, supervisors: true },
      'location:updated',
      { conversationId, locations },
    );
    return locations;
  }

  /** The conversation's location history, for whoever may see its content. */
  async list(actor: Actor, conversationId: string): Promise<LocationView[]> {
    await this.deps.console.authorize(actor, conversationId);
    return listLocations(this.deps.db, conversationId);
  }

  /** An agent types a location (what the caller said, a map lookup): it is confirmed and current. */
  async add(
    actor: Actor,
    conversationId: string,
    input: { latitude: number; longitude: number; uncertaintyMeters?: number | null },
  ): Promise<LocationView[]> {
    await this.deps.console.authorize(actor, conversationId);
    await recordLocation(this.deps.db, { conversationId, source: 'agent', ...input, at: new Date(), agentId: actor.agentId });
    return this.publish(conversationId);
  }

  /** An agent confirms an entry of the history: it becomes current and is not replaced automatically. */
  async confirm(actor: Actor, conversationId: string, locationId: number): Promise<LocationView[]> {
    await this.deps.console.authorize(actor, conversationId);
    if (!(await confirmLocation(this.deps.db, conversationId, locationId, actor.agentId))) {
      throw new NotFoundError('location', String(locationId), 'locationId');
    }
    return this.publish(conversationId);
  }

  /** A position from the citizen's browser, the carrier or a provider: history always, current unless an agent confirmed one. */
  async recordAutomatic(input: Omit<NewLocation, 'agentId'>): Promise<{ id: number; current: boolean }> {
    const stored = await recordLocation(this.deps.db, { ...input, agentId: null });
    await this.publish(input.conversationId);
    return stored;
  }
}
