/**
 * What agents and supervisors do, behind both the HTTP API and the `/agent`
 * socket: one place for access checks, state changes and pushes.
 */
import type { ChannelAdapter } from '../channel.ts';
import type { Actor } from '../auth/sessions.ts';
import { roleAtLeast, type Channel, type Presence, type Resolution } from '../domain/types.ts';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { storeReply } from '../outbound/reply.ts';
import { enqueueAfterCommit, type Enqueuer } from '../queue/enqueue.ts';
import type { AgentView, ConversationDetail, ConversationView, MessageView } from '../realtime/events.ts';
import { listConversationEvents, listSharedConversationIds } from '../store/participants.ts';
import type { Notifier } from '../realtime/notifier.ts';
import { getAgent, toAgentView } from '../store/agents.ts';
import { acceptOffer, requeueOffers, resolveConversation, UnroutedMessages, type Accepted } from '../store/assignments.ts';
import { setPresence } from '../store/presence.ts';
import { sendSystemText } from '../outbound/system-text.ts';
import { scheduleCallbackWindow } from '../queue/schedule.ts';
import { getQueueSettings } from '../store/queue-settings.ts';
import { flagEmergency } from '../store/timer-writes.ts';
import { getAttachmentContent } from '../store/attachments.ts';
import {
  getConversation,
  getConversationView,
  getMessageAttachments,
  getMessageView,
  listMessages,
  listOpenConversations,
  recordEvent,
  toCitizenView,
} from '../store/conversations.ts';
import type { Db } from '../store/db.ts';
import { contacts, conversations, type ConversationRow } from '../store/schema.ts';
import { eq, sql } from 'drizzle-orm';
import { assertContentAccess, isInConversation } from './content-access.ts';
import { ConversationSharing } from './sharing.ts';
import { invitedChatAddress } from '../realtime/events.ts';

/** An escalated conversation still waiting: offered to every available agent, first accept wins. */
const offeredToAll = (c: ConversationRow) => c.escalatedAt !== null && (c.status === 'queued' || c.status === 'offered');

export interface ConsoleDeps {
  db: Db;
  enqueue: Enqueuer;
  notifier: Notifier;
  /**
   * Called once when a conversation is first flagged as an emergency (after
   * the commit): e-mailing emergency contacts plugs in here. Failures are
   * logged, never undo the flag.
   */
  onEmergencyFlagged?: (conversationId: string, actor: Actor) => Promise<void> | void;
  adapters: ReadonlyMap<Channel, ChannelAdapter>;
  log: Logger;
  /** Observes answer times (a conversation's first accept). */
  metrics?: Pick<Metrics, 'answerSeconds'>;
}

const RESOLVED_TEXT = 'This conversation has been closed by the call-taker. If you still need help, write again or call 911.';

/** The console's operations; every method checks the actor's access first. */
export class ConsoleService {
  private readonly log: Logger;

  /** Shared conversations: invite, join, leave, transfer, take over, notes, notices. */
  readonly sharing: ConversationSharing;

  constructor(private readonly deps: ConsoleDeps) {
    this.log = deps.log.child({ component: 'console' });
    this.sharing = new ConversationSharing(deps, {
      access: (actor, conversationId, need) => this.load(actor, conversationId, need),
      publishConversation: (conversationId, extra) => this.publishConversation(conversationId, extra),
      publishMessage: (messageId, agentId) => this.publishMessage(messageId, agentId),
      publishPresence: (agentId) => this.publishPresence(agentId),
    });
  }

  /**
   * The one access check: the conversation's owner, its active participants
   * and supervisors may work on it; `own` (transfer, invite, resolve) leaves
   * participants out.
   */
  private async load(actor: Actor, conversationId: string, need: 'view' | 'own' = 'view'): Promise<ConversationRow> {
    const conversation = await getConversation(this.deps.db, conversationId);
    if (!conversation) throw new NotFoundError('conversation', conversationId, 'conversationId');
    if (conversation.agentId !== actor.agentId && !roleAtLeast(actor.role, 'supervisor')) {
      // An escalated conversation still waiting is offered to every agent: any may open and accept it.
      const participant = need === 'view' && (offeredToAll(conversation) || (await isInConversation(this.deps.db, actor.agentId, conversation)));
      if (!participant) {
        throw new ForbiddenError(
          need === 'own' ? 'only the agent holding this conversation or a supervisor may do this' : 'this conversation is not assigned to you',
          'conversationId',
        );
      }
    }
    // Confidential content: only the agents in it and supervisors, whatever else allows access.
    await assertContentAccess(this.deps.db, actor, conversation);
    return conversation;
  }

  /**
   * The conversation row, when the actor may work on it (the console's access
   * rule, confidentiality included); for the services beside this one.
   * @throws NotFoundError, ForbiddenError
   */
  async authorize(actor: Actor, conversationId: string): Promise<ConversationRow> {
    return this.load(actor, conversationId);
  }

  /**
   * Marks a conversation confidential (the agent holding it or a supervisor)
   * or, supervisors only, not confidential any more.
   */
  async setConfidential(actor: Actor, conversationId: string, confidential: boolean): Promise<ConversationView> {
    const conversation = await this.load(actor, conversationId);
    if (!confidential && !roleAtLeast(actor.role, 'supervisor')) throw new ForbiddenError('only a supervisor can lift confidentiality');
    if (conversation.confidential !== confidential) {
      await this.deps.db
        .update(conversations)
        .set({ confidential, version: sql`${conversations.version} + 1` })
        .where(eq(conversations.id, conversationId));
      await recordEvent(this.deps.db, {
        conversationId,
        type: confidential ? 'conversation.confidential' : 'conversation.not_confidential',
        actorType: 'agent',
        actorId: actor.agentId,
      });
      this.log.info({ conversationId, agentId: actor.agentId, confidential }, 'confidentiality changed');
    }
    return (await this.publishConversation(conversationId)) as ConversationView;
  }

  /** Pushes a conversation's new state to its agent, viewers and supervisors. */
  async publishConversation(conversationId: string, extraAgents: Array<string | null> = []): Promise<ConversationView | undefined> {
    const view = await getConversationView(this.deps.db, conversationId);
    if (!view) return undefined;
    this.deps.notifier.toAgents(
      { agentIds: [view.agentId, ...view.participantIds, ...extraAgents], conversationId, supervisors: true },
      'conversation:updated',
      view,
    );
    return view;
  }

  /** Pushes a stored message to the consoles that show its conversation (citizens get it from the outbound worker). */
  async publishMessage(messageId: number, knownAgentId?: string | null): Promise<MessageView | undefined> {
    const message = await getMessageView(this.deps.db, messageId);
    if (!message) return undefined;
    const agentId = knownAgentId !== undefined ? knownAgentId : (await getConversation(this.deps.db, message.conversationId))?.agentId;
    this.deps.notifier.toAgents(
      { agentIds: [agentId ?? null], conversationId: message.conversationId, supervisors: true },
      'message:new',
      message,
    );
    // A browser invited into the conversation (text-from-911 follow-up) sees it too.
    const citizenView = toCitizenView(message);
    if (citizenView) this.deps.notifier.toCitizen(invitedChatAddress(message.conversationId), 'message:new', citizenView);
    return message;
  }

  /**
   * Supervisors: every open conversation. Agents: theirs, those offered to
   * everyone (escalated, still waiting), those they share and those they are
   * invited to.
   */
  async listConversations(actor: Actor): Promise<ConversationView[]> {
    if (roleAtLeast(actor.role, 'supervisor')) return listOpenConversations(this.deps.db);
    const [own, shared] = await Promise.all([listOpenConversations(this.deps.db, actor.agentId), listSharedConversationIds(this.deps.db, actor.agentId)]);
    const listed = new Set(own.map((c) => c.id));
    const views = await Promise.all(shared.filter((id) => !listed.has(id)).map((id) => getConversationView(this.deps.db, id)));
    return [...own, ...views.filter((v) => v !== undefined)];
  }

  /** A conversation with its history, its log of events and who is in it. */
  async getConversation(actor: Actor, conversationId: string): Promise<ConversationDetail> {
    await this.load(actor, conversationId);
    const conversation = await getConversationView(this.deps.db, conversationId);
    if (!conversation) throw new NotFoundError('conversation', conversationId);
    const [messages, events, participants] = await Promise.all([
      listMessages(this.deps.db, conversationId),
      listConversationEvents(this.deps.db, conversationId),
      this.sharing.participants(conversationId),
    ]);
    return { conversation, messages, events, participants };
  }

  async messagesSince(actor: Actor, conversationId: string, afterId: number): Promise<MessageView[]> {
    await this.load(actor, conversationId);
    return listMessages(this.deps.db, conversationId, afterId);
  }

  /**
   * One attachment of a message, content included, for whoever may open the
   * message's conversation. Not found: the message, the index, or (a message
   * naming content the store does not hold) the content.
   */
  async attachment(actor: Actor, messageId: number, index: number): Promise<{ name: string; contentType: string; content: Buffer }> {
    const message = await getMessageAttachments(this.deps.db, messageId);
    if (!message) throw new NotFoundError('message', String(messageId), 'messageId');
    await this.load(actor, message.conversationId);
    const attachment = message.attachments[index];
    if (!attachment) throw new NotFoundError('attachment', `${index} of message ${messageId}`, 'index');
    const content = attachment.sha256 ? await getAttachmentContent(this.deps.db, attachment.sha256) : undefined;
    if (!content) {
      if (attachment.sha256) this.log.warn({ conversationId: message.conversationId, messageId, index }, 'attachment content missing from the store');
      throw new NotFoundError('content of attachment', `${index} of message ${messageId}`);
    }
    return { name: attachment.name, contentType: attachment.contentType, content };
  }

  async accept(actor: Actor, conversationId: string): Promise<ConversationView> {
    const conversation = await this.load(actor, conversationId);
    if (conversation.status === 'active' && conversation.agentId === actor.agentId) {
      return (await getConversationView(this.deps.db, conversationId)) as ConversationView;
    }
    const ok = await acceptOffer(this.deps.db, conversationId, actor.agentId);
    if (!ok) throw new ConflictError('this conversation is no longer offered to you', 'not_offered');
    if (ok.answerSeconds !== null) this.deps.metrics?.answerSeconds.observe({ channel: ok.channel }, ok.answerSeconds);
    this.log.info({ conversationId, agentId: actor.agentId, takenFrom: ok.takenFrom, dnd: ok.dnd }, 'conversation accepted');
    await this.afterAccept(actor.agentId, conversation, ok);
    const view = (await this.publishConversation(conversationId)) as ConversationView;
    await this.sharing.publishEvent(conversationId, { type: 'conversation.accepted' });
    return view;
  }

  async reply(actor: Actor, input: { conversationId: string; text: string; clientId: string }): Promise<MessageView> {
    const conversation = await this.load(actor, input.conversationId);
    if (conversation.status !== 'active' && conversation.status !== 'on_hold') {
      throw new ConflictError(`cannot reply to a conversation that is ${conversation.status}; accept it first`, 'not_active');
    }
    const stored = await storeReply(this.deps, {
      conversationId: conversation.id,
      channelLinkId: conversation.channelLinkId,
      agentId: actor.agentId,
      text: input.text,
      clientId: input.clientId,
    });
    const view = stored.duplicate ? await getMessageView(this.deps.db, stored.messageId) : await this.publishMessage(stored.messageId);
    if (!view) throw new NotFoundError('message', String(stored.messageId));
    return view;
  }

  async resolve(actor: Actor, conversationId: string, resolution: Resolution): Promise<ConversationView> {
    const conversation = await this.load(actor, conversationId, 'own');
    const done = await resolveConversation(this.deps.db, conversationId, resolution, { type: 'agent', id: actor.agentId }).catch((err: unknown) => {
      if (err instanceof UnroutedMessages) throw new ConflictError(err.message, 'unread_messages');
      throw err;
    });
    if (!done) throw new ConflictError(`conversation is already ${conversation.status}`, 'not_open');
    this.log.info({ conversationId, agentId: actor.agentId, resolution }, 'conversation resolved');
    const closing = await storeReply(this.deps, {
      conversationId,
      channelLinkId: conversation.channelLinkId,
      agentId: null,
      text: RESOLVED_TEXT,
      clientId: `resolved-${conversationId}-${conversation.version}`,
      direction: 'system',
    });
    await this.publishMessage(closing.messageId);
    await this.afterResolve(conversation, done);
    await enqueueAfterCommit(this.deps.enqueue.dispatch({ reason: 'capacity freed' }));
    const view = (await this.publishConversation(conversationId, [done.agentId])) as ConversationView;
    if (done.agentId && !roleAtLeast(actor.role, 'supervisor')) this.deps.notifier.leaveConversation(done.agentId, conversationId);
    await this.sharing.publishEvent(conversationId, { type: 'conversation.resolved' });
    return view;
  }

  async setPresence(actor: Actor, presence: Presence): Promise<AgentView> {
    const before = await setPresence(this.deps.db, actor.agentId, presence);
    if (before === undefined) throw new NotFoundError('agent', actor.agentId);
    if (presence !== 'available') {
      const requeued = await requeueOffers(this.deps.db, actor.agentId, `agent became ${presence}`);
      for (const id of requeued) {
        await this.publishConversation(id, [actor.agentId]);
        this.deps.notifier.leaveConversation(actor.agentId, id);
      }
      if (requeued.length > 0) await enqueueAfterCommit(this.deps.enqueue.dispatch({ reason: 'offers requeued' }));
    } else if (before !== 'available') {
      await enqueueAfterCommit(this.deps.enqueue.dispatch({ reason: 'agent available' }));
    }
    const agent = await getAgent(this.deps.db, actor.agentId);
    if (!agent) throw new NotFoundError('agent', actor.agentId);
    const view = toAgentView(agent);
    this.deps.notifier.toAgents({ agentIds: [actor.agentId], supervisors: true }, 'presence:changed', view);
    this.log.info({ agentId: actor.agentId, presence, before }, 'presence changed');
    return view;
  }

  /**
   * Relays an agent's typing to other agents in the conversation and to the
   * citizen where the channel can show it (not while writing an internal note).
   */
  async typing(actor: Actor, conversationId: string, typing: boolean, note = false): Promise<void> {
    const conversation = await this.load(actor, conversationId);
    this.deps.notifier.toAgents({ conversationId }, 'typing', { conversationId, who: actor.displayName, agentId: actor.agentId, typing });
    const adapter = this.deps.adapters.get(conversation.channel);
    if (adapter?.agentTyping && !note) {
      const [contact] = await this.deps.db.select({ address: contacts.address }).from(contacts).where(eq(contacts.id, conversation.contactId));
      if (contact) adapter.agentTyping(conversationId, contact.address, typing, actor.displayName);
    }
  }

  /**
   * Flags a conversation as an emergency (the agent holding it or a
   * supervisor): the callback window applies after it. Idempotent; the
   * `onEmergencyFlagged` hook runs once, on the first flag.
   */
  async flagEmergency(actor: Actor, conversationId: string): Promise<ConversationView> {
    const conversation = await this.load(actor, conversationId, 'own');
    const flagged = await flagEmergency(this.deps.db, conversationId, actor);
    if (flagged) {
      this.log.info({ conversationId, agentId: actor.agentId }, 'conversation flagged as an emergency');
      // Flagged after it closed: the callback window starts from its resolution.
      if (conversation.resolvedAt && conversation.status === 'resolved') {
        const err = await enqueueAfterCommit(
          scheduleCallbackWindow(this.deps, { conversationId, resolvedAt: conversation.resolvedAt, queueId: conversation.queueId }),
        );
        if (err) this.log.error({ err, conversationId }, 'setting the callback window timer failed');
      }
      try {
        await this.deps.onEmergencyFlagged?.(conversationId, actor);
      } catch (err) {
        this.log.error({ err, conversationId }, 'the emergency-flagged hook failed');
      }
    }
    return (await this.publishConversation(conversationId)) as ConversationView;
  }

  /**
   * Sets an agent's presence for the system (missed offers, a closed
   * console): the same effects as the agent setting it.
   */
  async setPresenceFor(agentId: string, presence: Presence): Promise<AgentView | undefined> {
    const agent = await getAgent(this.deps.db, agentId);
    if (!agent) return undefined;
    return this.setPresence({ agentId, role: agent.role, displayName: agent.displayName, username: agent.username }, presence);
  }

  /** The acknowledgement to the citizen (once per queueing), presence pushes and offers moved on by an accept. */
  private async afterAccept(agentId: string, conversation: ConversationRow, accepted: Accepted): Promise<void> {
    if (accepted.takenFrom) {
      await this.publishConversation(conversation.id, [accepted.takenFrom]);
      this.deps.notifier.leaveConversation(accepted.takenFrom, conversation.id);
      await enqueueAfterCommit(this.deps.enqueue.dispatch({ reason: 'capacity freed' }));
    }
    const queue = await getQueueSettings(this.deps.db, conversation.queueId);
    const ack = await sendSystemText(this.deps, { ...conversation, conversationId: conversation.id }, queue.acknowledgementText, `ack-${accepted.queuedAt.getTime()}`);
    if (ack !== undefined) {
      await recordEvent(this.deps.db, { conversationId: conversation.id, type: 'acknowledgement.sent', actorType: 'system', data: { messageId: ack, agentId } });
      await this.publishMessage(ack);
    }
    if (accepted.dnd) {
      const requeued = await requeueOffers(this.deps.db, agentId, 'agent on a voice call');
      for (const id of requeued) {
        await this.publishConversation(id, [agentId]);
        this.deps.notifier.leaveConversation(agentId, id);
      }
      if (requeued.length > 0) await enqueueAfterCommit(this.deps.enqueue.dispatch({ reason: 'offers requeued' }));
      await this.publishPresence(agentId);
    }
  }

  /** After a resolve: the callback window of an emergency, the presence a voice call suspended. */
  private async afterResolve(conversation: ConversationRow, done: NonNullable<Awaited<ReturnType<typeof resolveConversation>>>): Promise<void> {
    if (done.emergency) {
      const err = await enqueueAfterCommit(
        scheduleCallbackWindow(this.deps, { conversationId: conversation.id, resolvedAt: done.resolvedAt, queueId: conversation.queueId }),
      );
      if (err) this.log.error({ err, conversationId: conversation.id }, 'setting the callback window timer failed');
    }
    if (done.agentId && done.restoredPresence) await this.publishPresence(done.agentId);
  }

  private async publishPresence(agentId: string): Promise<void> {
    const agent = await getAgent(this.deps.db, agentId);
    if (agent) this.deps.notifier.toAgents({ agentIds: [agentId], supervisors: true }, 'presence:changed', toAgentView(agent));
  }
}
