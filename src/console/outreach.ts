/**
 * Text-from-911: an agent starts a conversation to a phone number (on an SMS
 * link: SMPP or Twilio) or an e-mail address (on a mailbox link). The first
 * message is an ordinary outbound reply, so the outbound worker sends it with
 * its retries and delivery status. Optionally it carries a one-time link to
 * `/chat?invite=…` that joins the same conversation from a browser, where the
 * citizen can share their location and photos (with consent).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Actor } from '../auth/sessions.ts';
import type { Channel } from '../domain/types.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { storeReply } from '../outbound/reply.ts';
import type { Enqueuer } from '../queue/enqueue.ts';
import type { ConversationView, MessageView } from '../realtime/events.ts';
import type { Db } from '../store/db.ts';
import { createInvitation } from '../store/invitations.ts';
import { getLink } from '../store/links.ts';
import { openOutboundConversation } from '../store/outreach.ts';
import type { ConsoleService } from './service.ts';

export interface OutreachDeps {
  db: Db;
  enqueue: Enqueuer;
  console: Pick<ConsoleService, 'publishConversation' | 'publishMessage'>;
  log: Logger;
  /** Where citizens reach the gateway (the invitation link's origin). */
  publicUrl: () => string;
  invitationHours: number;
}

const PHONE = /^\+?[0-9]{3,15}$/;
const email = z.string().email();

/** The conversation channel a link starts conversations on, or undefined when it cannot text out. */
function outboundChannel(linkChannel: Channel): Channel | undefined {
  if (linkChannel === 'sms' || linkChannel === 'twilio') return 'sms';
  if (linkChannel === 'email') return 'email';
  return undefined;
}

export class OutreachService {
  private readonly log: Logger;

  constructor(private readonly deps: OutreachDeps) {
    this.log = deps.log.child({ component: 'outreach' });
  }

  /** Starts (or continues, when it is already the agent's) a conversation with a citizen and sends the first message. */
  async start(
    actor: Actor,
    input: { linkId: string; address: string; text: string; invite?: boolean },
  ): Promise<{ conversation: ConversationView; message: MessageView; invitationExpiresAt: string | null }> {
    const found = await getLink(this.deps.db, input.linkId);
    if (!found || found.link.deletedAt) throw new NotFoundError('channel link', input.linkId, 'linkId');
    if (!found.link.enabled) throw new ConflictError(`link ${found.link.name} is disabled`, 'link_disabled');
    const channel = outboundChannel(found.link.channel);
    if (!channel) throw new ValidationError(`a ${found.link.channel} link cannot start conversations; use an SMS or e-mail link`, 'linkId');
    const address = input.address.trim();
    if (channel === 'sms' && !PHONE.test(address.replace(/[\s().-]/g, ''))) {
      throw new ValidationError('must be a phone number (digits, optionally a leading +)', 'address');
    }
    if (channel === 'email' && !email.safeParse(address).success) throw new ValidationError('must be an e-mail address', 'address');

    const started = await openOutboundConversation(this.deps.db, {
      channel: found.link.channel,
      linkId: found.link.id,
      address: channel === 'email' ? address.toLowerCase() : address,
      agentId: actor.agentId,
    });
    let text = input.text;
    let invitationExpiresAt: string | null = null;
    if (input.invite) {
      const invitation = await createInvitation(this.deps.db, {
        conversationId: started.conversationId,
        createdBy: actor.agentId,
        ttlHours: this.deps.invitationHours,
      });
      invitationExpiresAt = invitation.expiresAt.toISOString();
      text = `${text}\n\n${this.deps.publicUrl()}/chat?invite=${invitation.token}`;
    }
    const stored = await storeReply(this.deps, {
      conversationId: started.conversationId,
      channelLinkId: started.channelLinkId,
      agentId: actor.agentId,
      text,
      clientId: `outreach-${randomUUID()}`,
    });
    this.log.info({ conversationId: started.conversationId, agentId: actor.agentId, channel, opened: started.opened, invite: Boolean(input.invite) }, 'text-from-911 sent');
    const conversation = await this.deps.console.publishConversation(started.conversationId);
    const message = await this.deps.console.publishMessage(stored.messageId, actor.agentId);
    if (!conversation || !message) throw new NotFoundError('conversation', started.conversationId);
    return { conversation, message, invitationExpiresAt };
  }
}
