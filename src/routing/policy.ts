/**
 * Agent-picking policy (`getNextAgent`): a pure function over a snapshot of
 * waiting conversations and available agents. Swappable: the dispatcher takes
 * any function of this type.
 */

export interface WaitingConversation {
  id: string;
  version: number;
  priority: number;
  queuedAt: Date;
  queueId: string | null;
  weight: number;
  /** Agents not to offer it to now (their offer of it just timed out). */
  excludedAgentIds?: readonly string[];
}

export interface AgentSlot {
  id: string;
  load: number;
  capacity: number;
  idleSince: Date;
  /** Queues served; empty serves all. */
  queueIds: readonly string[];
}

export interface Assignment {
  conversationId: string;
  conversationVersion: number;
  agentId: string;
  weight: number;
  priority: number;
  /** Why this agent: for the structured decision log. */
  reason: string;
}

export type AssignmentPolicy = (waiting: readonly WaitingConversation[], agents: readonly AgentSlot[], now: Date) => Assignment[];

const serves = (agent: AgentSlot, queueId: string | null) =>
  agent.queueIds.length === 0 || (queueId !== null && agent.queueIds.includes(queueId));

/**
 * Highest priority first, then longest waiting; each goes to the eligible
 * agent with room who has been idle longest. An agent picked moves to the back.
 */
export const longestIdlePolicy: AssignmentPolicy = (waiting, agents, now) => {
  const slots = agents.map((a) => ({ ...a }));
  const ordered = [...waiting].sort((a, b) => b.priority - a.priority || a.queuedAt.getTime() - b.queuedAt.getTime());
  const plan: Assignment[] = [];
  for (const conversation of ordered) {
    let best: (typeof slots)[number] | undefined;
    for (const slot of slots) {
      if (slot.load + conversation.weight > slot.capacity || !serves(slot, conversation.queueId)) continue;
      if (conversation.excludedAgentIds?.includes(slot.id)) continue;
      if (!best || slot.idleSince < best.idleSince) best = slot;
    }
    if (!best) continue;
    best.load += conversation.weight;
    best.idleSince = now;
    plan.push({
      conversationId: conversation.id,
      conversationVersion: conversation.version,
      agentId: best.id,
      weight: conversation.weight,
      priority: conversation.priority,
      reason: 'longest-idle agent with capacity',
    });
    if (slots.every((s) => s.load >= s.capacity)) break;
  }
  return plan;
};
