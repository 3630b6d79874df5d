/**
 * Web chat: citizens on the `/chat` page over the `/citizen` Socket.IO
 * namespace. A session is a random token kept by the browser; its hash is the
 * contact address, so a reload resumes the same conversation.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { AdapterDeps, ChannelAdapter, OutboundMessage, SendResult } from '../types.ts';
import { hashToken, randomSecret } from '../../src/auth/passwords.ts';
import { OPEN_STATUSES } from '../../src/domain/types.ts';
import { AppError, ChannelSendError, ConflictError, ValidationError } from '../../src/errors.ts';
import { answer } from '../../src/realtime/ack.ts';
import { rooms, type CitizenNamespace } from '../../src/realtime/events.ts';
import { listCitizenMessages } from '../../src/store/conversations.ts';
import { channelLinks, contacts, conversations, messages } from '../../src/store/schema.ts';
import { parse } from '../../src/http/validate.ts';
import { createRateLimiter } from './rate-limit.ts';
import { invitedRoom, invitedSessions } from './invited.ts';

const startInput = z.object({ name: z.string().trim().max(80).optional() });
const readInput = z.object({ id: z.number().int().positive() });
const sinceInput = z.object({ afterId: z.number().int().min(0) });
const typingInput = z.object({ typing: z.boolean() });
const SAVE_FAILED = 'your message could not be saved; please try again';

export function createWebchatAdapter(): ChannelAdapter {
  let citizens: CitizenNamespace | undefined;

  return {
    channel: 'webchat',

    async start(deps: AdapterDeps) {
      const log = deps.log.child({ component: 'webchat' });
      const [link] = await deps.db.select({ id: channelLinks.id }).from(channelLinks).where(eq(channelLinks.channel, 'webchat')).limit(1);
      if (!link) throw new Error('no web-chat channel link; run the start-up set-up first');
      const linkId = link.id;
      citizens = deps.citizens;
      const sendInput = z.object({
        clientId: z.string().min(8).max(100),
        text: z.string().trim().min(1, 'must not be empty').max(deps.maxMessageChars, `at most ${deps.maxMessageChars} characters`),
      });
      const contactId = async (address: string) => {
        const [c] = await deps.db.select({ id: contacts.id }).from(contacts).where(and(eq(contacts.channel, 'webchat'), eq(contacts.address, address)));
        return c?.id;
      };

      const openConversationOf = async (address: string) => {
        const [c] = await deps.db
          .select({ id: conversations.id })
          .from(conversations)
          .innerJoin(contacts, eq(contacts.id, conversations.contactId))
          .where(and(eq(contacts.channel, 'webchat'), eq(contacts.address, address), inArray(conversations.status, [...OPEN_STATUSES])));
        return c?.id;
      };

      const invited = invitedSessions(deps, linkId);

      deps.citizens.use((socket, next) => {
        const token = (socket.handshake.auth as { token?: unknown }).token;
        if (typeof token === 'string' && token.length >= 20 && token.length <= 200) socket.data.address = hashToken(token);
        next();
      });

      deps.citizens.on('connection', (socket) => {
        const limiter = createRateLimiter({ perSecond: 5, burst: 20 });
        let conversationId: string | undefined;
        const onError = (err: unknown) => log.error({ err }, 'citizen socket handler failed');
        if (socket.data.address) void socket.join(rooms.citizen(socket.data.address));
        // A session that is not an invited one never becomes one (a redeemed invitation is a new
        // session), so its messages skip that lookup once it has been seen to be plain.
        let plain = false;
        const invitedOf = async (address: string) => {
          if (plain) return undefined;
          const conversation = await invited.invitedConversation(address);
          if (!conversation) plain = true;
          return conversation;
        };
        // An invited session (text-from-911 follow-up) also hears the invited conversation.
        const joinInvited = async (address: string) => {
          const conversation = await invitedOf(address);
          if (conversation) await socket.join(invitedRoom(conversation.id));
          return conversation;
        };
        if (socket.data.address) joinInvited(socket.data.address).catch(onError);
        const session = () => {
          if (!socket.data.address) throw new ValidationError('start a session first', 'session');
          return socket.data.address;
        };

        socket.on('session:start', (input: unknown, ack: unknown) =>
          answer(ack, async () => {
            const i = parse(startInput, input);
            if (socket.data.address) throw new ValidationError('a session is already open on this connection', 'session');
            const token = randomSecret(24);
            const address = hashToken(token);
            // The contact is stored now, so the name survives a reload before the first message.
            await deps.db.insert(contacts).values({ channel: 'webchat', address, name: i.name || null }).onConflictDoNothing();
            socket.data.address = address;
            plain = true;
            await socket.join(rooms.citizen(address));
            return { token };
          }, onError, SAVE_FAILED),
        );

        socket.on('invite:redeem', (input: unknown, ack: unknown) =>
          answer(ack, async () => {
            if (socket.data.address) throw new ValidationError('a session is already open on this connection', 'session');
            if (!limiter.take()) throw new AppError('rate_limited', 'too many attempts; wait a moment', { status: 429 });
            const { token, conversationId: joined } = await invited.redeem(input, async (address) => {
              socket.data.address = address;
              await socket.join(rooms.citizen(address));
            });
            await socket.join(invitedRoom(joined));
            conversationId = joined;
            log.info({ conversationId: joined }, 'chat invitation redeemed');
            return { token };
          }, onError, SAVE_FAILED),
        );

        socket.on('location:share', (input: unknown, ack: unknown) =>
          answer(ack, async () => {
            if (!limiter.take()) throw new AppError('rate_limited', 'too many messages; wait a moment', { status: 429 });
            return invited.shareLocation(session(), input);
          }, onError, SAVE_FAILED),
        );

        socket.on('photo:send', (input: unknown, ack: unknown) =>
          answer(ack, async () => {
            if (!limiter.take()) throw new AppError('rate_limited', 'too many messages; wait a moment', { status: 429 });
            return invited.sendPhoto(session(), input, linkId);
          }, onError, SAVE_FAILED),
        );

        socket.on('message:send', (input: unknown, ack: unknown) =>
          answer(ack, async () => {
            const address = session();
            const i = parse(sendInput, input);
            if (!limiter.take()) throw new AppError('rate_limited', 'too many messages; wait a moment', { status: 429 });
            const joined = await invitedOf(address);
            if (joined) {
              if (!joined.open) throw new ConflictError('this conversation has ended; if you still need help, call or text 911', 'conversation_closed');
              conversationId = joined.id;
              return invited.send(address, joined.id, i.clientId, i.text);
            }
            const result = await deps.receive({
              channel: 'webchat',
              channelLinkId: linkId,
              from: address,
              // Unique per session: one citizen's client id can never collide with another's.
              channelMessageId: `${address}:${i.clientId}`,
              clientMessageId: i.clientId,
              text: i.text,
              receivedAt: new Date(),
            });
            conversationId = result.conversationId;
            return { id: result.messageId, conversationId: result.conversationId };
          }, onError, SAVE_FAILED),
        );

        socket.on('messages:since', (input: unknown, ack: unknown) =>
          answer(ack, async () => {
            const i = parse(sinceInput, input);
            const joined = await invitedOf(session());
            if (joined) return invited.since(joined.id, i.afterId);
            const id = await contactId(session());
            return id ? listCitizenMessages(deps.db, id, i.afterId) : [];
          }, onError, SAVE_FAILED),
        );

        socket.on('message:read', (input: unknown) =>
          void answer(undefined, async () => {
            const i = parse(readInput, input);
            const id = await contactId(session());
            if (!id) return;
            const [m] = await deps.db
              .select({ id: messages.id })
              .from(messages)
              .innerJoin(conversations, eq(conversations.id, messages.conversationId))
              .where(and(eq(messages.id, i.id), eq(conversations.contactId, id), inArray(messages.direction, ['outbound', 'system'])));
            if (m) await deps.updateDelivery(m.id, 'delivered');
          }, onError, SAVE_FAILED),
        );

        socket.on('typing', (input: unknown) =>
          void answer(undefined, async () => {
            const i = parse(typingInput, input);
            const address = session();
            conversationId ??= (await invitedOf(address))?.id ?? (await openConversationOf(address));
            if (conversationId) deps.citizenTyping(conversationId, i.typing);
          }, onError, SAVE_FAILED),
        );
      });
      log.info({ linkId }, 'web chat ready');
    },

    async stop() {
      citizens?.disconnectSockets(true);
    },

    async send(message: OutboundMessage): Promise<SendResult> {
      if (!citizens) throw new ChannelSendError('web chat is not started', { retryable: true });
      // The citizen's page may be closed: it fetches what it missed when it comes back.
      citizens.to(rooms.citizen(message.to)).emit('message:new', {
        id: message.messageId,
        direction: message.kind === 'system' ? 'system' : 'outbound',
        body: message.text,
        deliveryStatus: 'sent',
        authorName: message.authorName,
        clientMessageId: null,
        createdAt: new Date().toISOString(),
      });
      return { status: 'sent' };
    },

    agentTyping(_conversationId, to, typing, name) {
      citizens?.to(rooms.citizen(to)).emit('typing', { typing, name });
    },
  };
}
