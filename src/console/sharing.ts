/**
 * Shared conversations and the supervisor's hand: invite, join, leave,
 * transfer, take over, internal notes and one-way notices. Access is checked
 * by the console service's one `load` (owner, active participant or
 * supervisor; `own` for owner or supervisor only), handed in as `access`.
 */
import type { Actor } from '../auth/sessions.ts';
import { OPEN_STATUSES, roleAtLeast } from '../domain/types.ts';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { storeReply } from '../outbound/reply.ts';
import { enqueueAfterCommit } from '../queue/enqueue.ts';
import type { ConversationView, DirectoryView, MessageView, ParticipantView, TransferTarget } from '../realtime/events.ts';
import { getAgent, listAgents } from '../store/agents.ts';
import { scheduleEscalation, scheduleOfferTimeout } from '../queue/schedule.ts';
import { restorePresenceAfterCall } from '../store/presence.ts';
import { AgentUnavailable, takeOverConversation, transferConversation } from '../store/transfers.ts';
import { getConversation, getConversationView } from '../store/conversations.ts';
import {
  addParticipant,
  appendEvent,
  getConversationEvent,
  getQueueName,
  isActiveParticipant,
  listParticipants,
  listQueueNames,
  pendingInvitation,
  removeParticipant,
} from '../store/participants.ts';
import type { ConversationRow } from '../store/schema.ts';
import type { ConsoleDeps } from './service.ts';

/** What sharing needs of the console service. */
export interface SharingHost {
  access(actor: Actor, conversationId: string, need?: 'view' | 'own'): Promise<ConversationRow>;
  publishConversation(conversationId: string, extraAgents?: Array<string | null>): Promise<ConversationView | undefined>;
  publishMessage(messageId: number, knownAgentId?: string | null): Promise<MessageView | undefined>;
  /** Pushes an agent's presence (changed by the system) to them and to supervisors. */
  publishPresence(agentId: string): Promise<void>;
}

const isOpen = (c: ConversationRow) => OPEN_STATUSES.includes(c.status);

/** The sharing operations; every method checks access through the host first. */
export class ConversationSharing {
  private readonly log: Logger;

  constructor(
    private readonly deps: ConsoleDeps,
    private readonly host: SharingHost,
  ) {
    this.log = deps.log.child({ component: 'sharing' });
  }

  /** Owner, participants, and anyone else with the conversation open, each with whether a console of theirs is connected to it. */
  async participants(conversationId: string): Promise<ParticipantView[]> {
    const [view, members, connected] = await Promise.all([
      getConversationView(this.deps.db, conversationId),
      listParticipants(this.deps.db, conversationId),
      this.deps.notifier.connectedAgents(conversationId),
    ]);
    const online = new Set(connected.map((c) => c.agentId));
    const out: ParticipantView[] = [];
    if (view?.agentId) {
      const owner = await getAgent(this.deps.db, view.agentId);
      if (owner) out.push({ agentId: owner.id, displayName: owner.displayName, role: owner.role, kind: 'owner', connected: online.has(owner.id) });
    }
    for (const m of members) {
      if (m.agentId !== view?.agentId) out.push({ ...m, kind: 'participant', connected: online.has(m.agentId) });
    }
    for (const c of connected) if (!out.some((p) => p.agentId === c.agentId)) out.push({ ...c, kind: 'watching', connected: true });
    return out;
  }

  /** Pushes who is in a conversation to everyone with it open (and to supervisors). */
  async publishParticipants(conversationId: string): Promise<void> {
    const participants = await this.participants(conversationId);
    this.deps.notifier.toAgents({ conversationId, supervisors: true }, 'conversation:participants', { conversationId, participants });
  }

  /** Pushes one log entry (by id, or the latest of a type) to the owner and the consoles showing the conversation. */
  async publishEvent(conversationId: string, which: { id: number } | { type: string }): Promise<void> {
    const [event, conversation] = await Promise.all([
      getConversationEvent(this.deps.db, conversationId, which),
      getConversation(this.deps.db, conversationId),
    ]);
    if (event) this.deps.notifier.toAgents({ agentIds: [conversation?.agentId ?? null], conversationId, supervisors: true }, 'conversation:event', event);
  }

  /** The owner (or a supervisor) asks another agent or supervisor to join; the invitee is told at once. */
  async invite(actor: Actor, conversationId: string, agentId: string): Promise<ConversationView> {
    const conversation = await this.host.access(actor, conversationId, 'own');
    if (!isOpen(conversation)) throw new ConflictError(`conversation is ${conversation.status}`, 'not_open');
    const invitee = await getAgent(this.deps.db, agentId);
    if (!invitee || invitee.disabled) throw new NotFoundError('agent', agentId, 'agentId');
    if (invitee.id === conversation.agentId || (await isActiveParticipant(this.deps.db, conversationId, agentId))) {
      throw new ConflictError(`${invitee.displayName} is already in this conversation`, 'already_participant');
    }
    const id = await appendEvent(this.deps.db, {
      conversationId,
      type: 'participant.invited',
      actorId: actor.agentId,
      data: { agentId, agentName: invitee.displayName },
    });
    const view = (await getConversationView(this.deps.db, conversationId)) as ConversationView;
    this.deps.notifier.toAgents({ agentIds: [agentId] }, 'conversation:invited', { conversation: view, by: actor.displayName, at: new Date().toISOString() });
    await this.publishEvent(conversationId, { id });
    this.log.info({ conversationId, agentId: actor.agentId, invitee: agentId }, 'participant invited');
    return view;
  }

  /**
   * Joins a conversation as a participant: supervisors any open one, agents
   * one they have a pending invitation to. Joining again is a no-op.
   */
  async join(actor: Actor, conversationId: string): Promise<void> {
    // Not `access`: joining is how an invited agent gains it.
    const conversation = await getConversation(this.deps.db, conversationId);
    if (!conversation) throw new NotFoundError('conversation', conversationId, 'conversationId');
    if (!isOpen(conversation)) throw new ConflictError(`conversation is ${conversation.status}`, 'not_open');
    if (conversation.agentId === actor.agentId) return;
    const supervisor = roleAtLeast(actor.role, 'supervisor');
    const joined = await this.deps.db.transaction(async (tx) => {
      if (await isActiveParticipant(tx, conversationId, actor.agentId)) return undefined;
      const invitation = await pendingInvitation(tx, conversationId, actor.agentId);
      if (!invitation && !supervisor) throw new ForbiddenError('you have not been invited to this conversation', 'conversationId');
      await addParticipant(tx, conversationId, actor.agentId, invitation?.invitedBy ?? null);
      return appendEvent(tx, { conversationId, type: 'participant.joined', actorId: actor.agentId, data: { agentId: actor.agentId, agentName: actor.displayName } });
    });
    if (joined === undefined) return;
    this.log.info({ conversationId, agentId: actor.agentId }, 'participant joined');
    await this.publishEvent(conversationId, { id: joined });
    await this.host.publishConversation(conversationId);
  }

  /** A participant leaves; they lose access until invited (or, for a supervisor, joining) again. */
  async leave(actor: Actor, conversationId: string): Promise<ConversationView> {
    const conversation = await this.host.access(actor, conversationId);
    if (conversation.agentId === actor.agentId) {
      throw new ConflictError('you hold this conversation; transfer or resolve it instead of leaving', 'owner_cannot_leave');
    }
    const left = await this.deps.db.transaction(async (tx) => {
      if (!(await removeParticipant(tx, conversationId, actor.agentId))) return undefined;
      return appendEvent(tx, { conversationId, type: 'participant.left', actorId: actor.agentId, data: { agentId: actor.agentId, agentName: actor.displayName } });
    });
    if (left === undefined) throw new ForbiddenError('you are not a participant of this conversation', 'conversationId');
    this.deps.notifier.leaveConversation(actor.agentId, conversationId);
    this.log.info({ conversationId, agentId: actor.agentId }, 'participant left');
    await this.publishEvent(conversationId, { id: left });
    const view = (await this.host.publishConversation(conversationId, [actor.agentId])) as ConversationView;
    await this.publishParticipants(conversationId);
    return view;
  }

  /**
   * Moves a conversation, with its history, to an agent (offered to them) or
   * a queue (waiting there). The note is stored as an internal note.
   */
  async transfer(actor: Actor, input: { conversationId: string; to: TransferTarget; note: string; clientId: string }): Promise<ConversationView> {
    const { conversationId, to } = input;
    const conversation = await this.host.access(actor, conversationId, 'own');
    if (!isOpen(conversation)) throw new ConflictError(`conversation is ${conversation.status}`, 'not_open');
    let target: Record<string, unknown>;
    if ('agentId' in to) {
      const agent = await getAgent(this.deps.db, to.agentId);
      if (!agent || agent.disabled) throw new NotFoundError('agent', to.agentId, 'to.agentId');
      if (agent.id === conversation.agentId) throw new ConflictError(`${agent.displayName} already holds this conversation`, 'same_agent');
      target = { toAgentId: agent.id, toName: agent.displayName };
    } else {
      const name = await getQueueName(this.deps.db, to.queueId);
      if (!name) throw new NotFoundError('queue', to.queueId, 'to.queueId');
      target = { toQueueId: to.queueId, queueName: name };
    }
    const from = conversation.agentId ? await getAgent(this.deps.db, conversation.agentId) : undefined;
    const { eventId, moved, restored } = await this.deps.db
      .transaction(async (tx) => {
        const moved = await transferConversation(tx, conversationId, to);
        if (!moved) throw new ConflictError('conversation is no longer open', 'not_open');
        // The new owner is no longer a participant beside themselves; the previous one hands it on and is out.
        if ('agentId' in to) await removeParticipant(tx, conversationId, to.agentId);
        if (from) await removeParticipant(tx, conversationId, from.id);
        const eventId = await appendEvent(tx, {
          conversationId,
          type: 'conversation.transferred',
          actorId: actor.agentId,
          data: { fromAgentId: from?.id ?? null, fromName: from?.displayName ?? null, ...target },
        });
        // A voice call handed on: the do-not-disturb it set on the previous owner ends.
        const restored = from && conversation.channel === 'voice' ? await restorePresenceAfterCall(tx, from.id, conversationId) : undefined;
        return { eventId, moved, restored };
      })
      .catch((err: unknown) => {
        if (err instanceof AgentUnavailable) throw new ConflictError(`${String(target.toName)} is not available or has no free capacity`, 'agent_unavailable');
        throw err;
      });
    const note = await storeReply(this.deps, {
      conversationId,
      channelLinkId: conversation.channelLinkId,
      agentId: actor.agentId,
      text: input.note,
      clientId: input.clientId,
      direction: 'note',
    });
    this.log.info({ conversationId, agentId: actor.agentId, ...target }, 'conversation transferred');
    if (from) this.deps.notifier.leaveConversation(from.id, conversationId);
    const view = (await this.host.publishConversation(conversationId, [from?.id ?? null])) as ConversationView;
    // Timers like any offer or queueing: an ignored offer times out back to the queue; a wait in the new queue escalates.
    const timer =
      'agentId' in to
        ? scheduleOfferTimeout(this.deps, { conversationId, agentId: to.agentId, version: moved.version, queueId: moved.queueId })
        : scheduleEscalation(this.deps, { conversationId, queuedAt: moved.queuedAt, queueId: moved.queueId });
    const timerErr = await enqueueAfterCommit(timer);
    if (timerErr) this.log.error({ err: timerErr, conversationId }, 'setting the timer of a transferred conversation failed');
    if ('agentId' in to) this.deps.notifier.toAgents({ agentIds: [to.agentId] }, 'conversation:offered', view);
    if (!('agentId' in to) || restored) {
      await enqueueAfterCommit(this.deps.enqueue.dispatch({ reason: restored ? 'agent back from a voice call' : 'conversation transferred to a queue' }));
    }
    if (from && restored) await this.host.publishPresence(from.id);
    await this.publishEvent(conversationId, { id: eventId });
    await this.host.publishMessage(note.messageId, view.agentId);
    await this.publishParticipants(conversationId);
    return view;
  }

  /** A supervisor takes a conversation over: they own it; the previous owner stays on as a participant. */
  async takeOver(actor: Actor, conversationId: string): Promise<ConversationView> {
    if (!roleAtLeast(actor.role, 'supervisor')) throw new ForbiddenError('taking over requires the supervisor role');
    const conversation = await this.host.access(actor, conversationId, 'own');
    if (!isOpen(conversation)) throw new ConflictError(`conversation is ${conversation.status}`, 'not_open');
    const from = conversation.agentId ? await getAgent(this.deps.db, conversation.agentId) : undefined;
    const { eventId, restored } = await this.deps.db.transaction(async (tx) => {
      const taken = await takeOverConversation(tx, conversationId, actor.agentId);
      if (!taken) throw new ConflictError('conversation is no longer open', 'not_open');
      if (taken.fromAgentId === actor.agentId && conversation.status !== 'offered' && conversation.status !== 'queued') return { eventId: undefined, restored: undefined };
      await removeParticipant(tx, conversationId, actor.agentId);
      if (from && from.id !== actor.agentId) await addParticipant(tx, conversationId, from.id, actor.agentId);
      const eventId = await appendEvent(tx, {
        conversationId,
        type: 'conversation.taken_over',
        actorId: actor.agentId,
        data: { fromAgentId: from?.id ?? null, fromName: from?.displayName ?? null },
      });
      // The supervisor has the call now: the do-not-disturb it set on the previous owner ends.
      const restored =
        from && from.id !== actor.agentId && conversation.channel === 'voice' ? await restorePresenceAfterCall(tx, from.id, conversationId) : undefined;
      return { eventId, restored };
    });
    const view = (await this.host.publishConversation(conversationId, [from?.id ?? null])) as ConversationView;
    if (eventId === undefined) return view;
    if (from && restored) {
      await this.host.publishPresence(from.id);
      await enqueueAfterCommit(this.deps.enqueue.dispatch({ reason: 'agent back from a voice call' }));
    }
    this.log.info({ conversationId, agentId: actor.agentId, from: from?.id }, 'conversation taken over');
    await this.publishEvent(conversationId, { id: eventId });
    await this.publishParticipants(conversationId);
    return view;
  }

  /** An internal note: stored in the conversation for agents, never sent to the citizen. */
  async addNote(actor: Actor, input: { conversationId: string; text: string; clientId: string }): Promise<MessageView> {
    const conversation = await this.host.access(actor, input.conversationId);
    return this.store(conversation, actor, input, 'note');
  }

  /**
   * A one-way notice to the citizen (a system message), from anyone with
   * access, without accepting the conversation or changing its state.
   */
  async sendNotice(actor: Actor, input: { conversationId: string; text: string; clientId: string }): Promise<MessageView> {
    const conversation = await this.host.access(actor, input.conversationId);
    if (!isOpen(conversation)) throw new ConflictError(`conversation is ${conversation.status}`, 'not_open');
    const message = await this.store(conversation, actor, input, 'system');
    await appendEvent(this.deps.db, { conversationId: conversation.id, type: 'conversation.notice_sent', actorId: actor.agentId, data: { messageId: message.id } });
    return message;
  }

  private async store(conversation: ConversationRow, actor: Actor, input: { text: string; clientId: string }, direction: 'note' | 'system'): Promise<MessageView> {
    const stored = await storeReply(this.deps, {
      conversationId: conversation.id,
      channelLinkId: conversation.channelLinkId,
      agentId: actor.agentId,
      text: input.text,
      clientId: input.clientId,
      direction,
    });
    const view = await this.host.publishMessage(stored.messageId, conversation.agentId);
    if (!view) throw new NotFoundError('message', String(stored.messageId));
    return view;
  }

  /** Agents (presence, load) and queues: invite and transfer targets, and the supervisor panel. */
  async directory(_actor: Actor): Promise<DirectoryView> {
    const [agents, queues] = await Promise.all([listAgents(this.deps.db), listQueueNames(this.deps.db)]);
    return { agents, queues };
  }
}
