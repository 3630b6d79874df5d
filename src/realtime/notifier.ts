/**
 * Pushes to consoles and citizen pages. Socket.IO delivers at most once and
 * keeps nothing for a disconnected client: pages resync from the store on
 * reconnect, so a push is a hint, never the record.
 */
import type { Revocation } from '../auth/sessions.ts';
import type { AgentNamespace, AgentServerEvents, AgentSocketData, CitizenNamespace, CitizenServerEvents } from './events.ts';
import { rooms } from './events.ts';

export interface AgentTargets {
  agentIds?: ReadonlyArray<string | null>;
  conversationId?: string;
  supervisors?: boolean;
}

export interface Notifier {
  toAgents<E extends keyof AgentServerEvents>(targets: AgentTargets, event: E, ...args: Parameters<AgentServerEvents[E]>): void;
  toCitizen<E extends keyof CitizenServerEvents>(address: string, event: E, ...args: Parameters<CitizenServerEvents[E]>): void;
  /** Takes an agent's consoles (on every process) out of a conversation's room: it is no longer theirs. */
  leaveConversation(agentId: string, conversationId: string): void;
  /** The agents (on every process) whose consoles have a conversation open, once each. */
  connectedAgents(conversationId: string): Promise<Array<Pick<AgentSocketData, 'agentId' | 'displayName' | 'role'>>>;
  /** Disconnects the consoles (on every process) of a revoked session, or of every session of an agent. */
  disconnectRevoked(revoked: Revocation): void;
}

/** A notifier over the process's Socket.IO namespaces (or, scaled out, their Redis adapter). */
export function createNotifier(agentsNs: AgentNamespace, citizensNs: CitizenNamespace): Notifier {
  return {
    toAgents(targets, event, ...args) {
      const to: string[] = [];
      for (const id of targets.agentIds ?? []) if (id) to.push(rooms.agent(id));
      if (targets.conversationId) to.push(rooms.conversation(targets.conversationId));
      if (targets.supervisors) to.push(rooms.supervisors);
      if (to.length === 0) return;
      // A socket in several of these rooms receives the event once.
      agentsNs.to(to).emit(event, ...args);
    },
    toCitizen(address, event, ...args) {
      citizensNs.to(rooms.citizen(address)).emit(event, ...args);
    },
    leaveConversation(agentId, conversationId) {
      agentsNs.in(rooms.agent(agentId)).socketsLeave(rooms.conversation(conversationId));
    },
    disconnectRevoked(revoked) {
      const room = 'agentId' in revoked ? rooms.agent(revoked.agentId) : rooms.session(revoked.tokenHash);
      agentsNs.in(room).disconnectSockets(true);
    },
    async connectedAgents(conversationId) {
      const sockets = await agentsNs.in(rooms.conversation(conversationId)).fetchSockets();
      const seen = new Map<string, Pick<AgentSocketData, 'agentId' | 'displayName' | 'role'>>();
      for (const { data } of sockets) if (data.agentId) seen.set(data.agentId, { agentId: data.agentId, displayName: data.displayName, role: data.role });
      return [...seen.values()];
    },
  };
}
