/**
 * What agents and supervisors do, behind both the HTTP API and the `/agent`
 * socket: one place for access checks, state changes and pushes.
 */
import type { ChannelAdapter } from '../channel.ts';
import type { Actor } from '../auth/sessions.ts';
import { roleAtLeast, type Channel, type Presence, type Resolution } from '../domain/types.ts';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { storeReply } from '../outbound/reply.ts';
import { enqueueAfterCommit, type Enqueuer } from '../queue/enqueue.ts';
import type { AgentView, ConversationView, MessageView } from '../realtime/events.ts';
import type { Notifier } from '../realtime/notifier.ts';
import { getAgent, toAgentView } from '../store/agents.ts';
import { acceptOffer, requeueOffers, resolveConversation, setPresence, UnroutedMessages } from '../store/assignments.ts';
import { getAttachmentContent } from '../store/attachments.ts';
import {
  getConversation,
  getConversationView,
  getMessageAttachments,
  getMessageView,
  listMessages,
  listOpenConversations,
} from '../store/conversations.ts';
import type { Db } from '../store/db.ts';
import { contacts, type ConversationRow } from '../store/schema.ts';
import { eq } from 'drizzle-orm';

export interface ConsoleDeps {
  db: Db;
  enqueue: Enqueuer;
  notifier: Notifier;
  adapters: ReadonlyMap<Channel, ChannelAdapter>;
  log: Logger;
}

const RESOLVED_TEXT = 'This conversation has been closed by the call-taker. If you still need help, write again or call 911.';

/** The console's operations; every method checks the actor's access first. */
export class ConsoleService {
  private readonly log: Logger;

  constructor(private readonly deps: ConsoleDeps) {
    this.log = deps.log.child({ component: 'console' });
  }

  private async load(actor: Actor, conversationId: string): Promise<ConversationRow> {
    const conversation = await getConversation(this.deps.db, conversationId);
    if (!conversation) throw new NotFoundError('conversation', conversationId);
    if (conversation.agentId !== actor.agentId && !roleAtLeast(actor.role, 'supervisor')) {
      throw new ForbiddenError('this conversation is not assigned to you');
    }
    return conversation;
  }

  /** Pushes a conversation's new state to its agent, viewers and supervisors. */
  async publishConversation(conversationId: string, extraAgents: Array<string | null> = []): Promise<ConversationView | undefined> {
    const view = await getConversationView(this.deps.db, conversationId);
    if (!view) return undefined;
    this.deps.notifier.toAgents(
      { agentIds: [view.agentId, ...extraAgents], conversationId, supervisors: true },
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
    return message;
  }

  async listConversations(actor: Actor): Promise<ConversationView[]> {
    return listOpenConversations(this.deps.db, roleAtLeast(actor.role, 'supervisor') ? undefined : actor.agentId);
  }

  async getConversation(actor: Actor, conversationId: string): Promise<{ conversation: ConversationView; messages: MessageView[] }> {
    await this.load(actor, conversationId);
    const conversation = await getConversationView(this.deps.db, conversationId);
    if (!conversation) throw new NotFoundError('conversation', conversationId);
    return { conversation, messages: await listMessages(this.deps.db, conversationId) };
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
    this.log.info({ conversationId, agentId: actor.agentId }, 'conversation accepted');
    return (await this.publishConversation(conversationId)) as ConversationView;
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
    const conversation = await this.load(actor, conversationId);
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
    await enqueueAfterCommit(this.deps.enqueue.dispatch({ reason: 'capacity freed' }));
    const view = (await this.publishConversation(conversationId, [done.agentId])) as ConversationView;
    if (done.agentId && !roleAtLeast(actor.role, 'supervisor')) this.deps.notifier.leaveConversation(done.agentId, conversationId);
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

  /** Relays an agent's typing to other agents in the conversation and to the citizen where the channel can show it. */
  async typing(actor: Actor, conversationId: string, typing: boolean): Promise<void> {
    const conversation = await this.load(actor, conversationId);
    this.deps.notifier.toAgents({ conversationId }, 'typing', { conversationId, who: actor.displayName, agentId: actor.agentId, typing });
    const adapter = this.deps.adapters.get(conversation.channel);
    if (adapter?.agentTyping) {
      const [contact] = await this.deps.db.select({ address: contacts.address }).from(contacts).where(eq(contacts.id, conversation.contactId));
      if (contact) adapter.agentTyping(conversationId, contact.address, typing, actor.displayName);
    }
  }
}
