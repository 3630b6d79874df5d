/**
 * Web-chat sessions that joined an existing conversation through a one-time
 * invitation (text-from-911 follow-up), and what every session may share with
 * consent: the browser's location and photos. An invited session writes into
 * the invited conversation and reads its messages; agents' replies reach it
 * through the conversation's citizen room (see `invitedChatAddress`).
 */
import { and, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { AdapterDeps } from '../types.ts';
import { hashToken, randomSecret } from '../../src/auth/passwords.ts';
import { inlineImageType } from '../../src/domain/attachments.ts';
import { OPEN_STATUSES } from '../../src/domain/types.ts';
import { AppError, ConflictError, ValidationError } from '../../src/errors.ts';
import { parse } from '../../src/http/validate.ts';
import { invitedChatAddress, rooms, type CitizenMessageView } from '../../src/realtime/events.ts';
import { putAttachments } from '../../src/store/attachments.ts';
import { listMessages, toCitizenView } from '../../src/store/conversations.ts';
import { invitedConversationOf, redeemInvitation, storeInvitedMessage } from '../../src/store/invitations.ts';
import { contacts, conversations } from '../../src/store/schema.ts';

/** Largest photo accepted over the socket (Socket.IO's buffer is 1 MB; the browser scales bigger photos down). */
export const MAX_PHOTO_BYTES = 900_000;

const redeemInput = z.object({ invite: z.string().min(20).max(200) });
const locationInput = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  accuracy: z.number().min(0).max(1_000_000).optional(),
  at: z.string().datetime({ offset: true }).optional(),
});
const photoInput = z.object({
  clientId: z.string().min(8).max(100),
  name: z.string().trim().min(1).max(200),
  contentType: z.string().max(100),
  data: z.instanceof(Buffer, { message: 'must be the photo bytes' }),
});

const REFUSALS = {
  unknown: 'this link is not valid',
  used: 'this link was already used; ask the call-taker for a new one',
  expired: 'this link has expired; ask the call-taker for a new one',
  closed: 'this conversation has ended; if you still need help, call or text 911',
} as const;

/** The open conversation a session writes to: the invited one, or its own web-chat conversation. */
async function conversationOfSession(deps: AdapterDeps, address: string): Promise<{ id: string; invited: boolean } | undefined> {
  const invited = await invitedConversationOf(deps.db, address);
  if (invited) return invited.open ? { id: invited.id, invited: true } : undefined;
  const [own] = await deps.db
    .select({ id: conversations.id })
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .where(and(eq(contacts.channel, 'webchat'), eq(contacts.address, address), inArray(conversations.status, [...OPEN_STATUSES])));
  return own ? { id: own.id, invited: false } : undefined;
}

export interface InvitedSessions {
  /** Redeems an invitation: a new session token whose session joins the invited conversation. */
  redeem(input: unknown, join: (address: string) => Promise<void>): Promise<{ token: string; conversationId: string }>;
  /** The invited conversation of a session, if it is an invited one (open or not). */
  invitedConversation(address: string): Promise<{ id: string; open: boolean } | undefined>;
  /** Stores a text an invited session sent. */
  send(address: string, conversationId: string, clientId: string, text: string): Promise<{ id: number; conversationId: string }>;
  /** What an invited session sees: the invited conversation's messages after an id. */
  since(conversationId: string, afterId: number): Promise<CitizenMessageView[]>;
  shareLocation(address: string, input: unknown): Promise<{ id: number }>;
  sendPhoto(address: string, input: unknown, linkId: string): Promise<{ id: number }>;
}

export function invitedSessions(deps: AdapterDeps, linkId: string): InvitedSessions {
  const storeAndPublish = async (input: Parameters<typeof storeInvitedMessage>[1]) => {
    const stored = await storeInvitedMessage(deps.db, input);
    if (!stored.duplicate) await deps.publishMessage(stored.id);
    return stored;
  };
  return {
    async redeem(input, join) {
      const { invite } = parse(redeemInput, input);
      const token = randomSecret(24);
      const address = hashToken(token);
      const result = await redeemInvitation(deps.db, invite, address);
      if (!result.ok) {
        throw new AppError(`invitation_${result.reason}`, REFUSALS[result.reason], { status: result.reason === 'unknown' ? 404 : 410 });
      }
      await join(address);
      return { token, conversationId: result.conversationId };
    },

    invitedConversation: (address) => invitedConversationOf(deps.db, address),

    async send(address, conversationId, clientId, text) {
      const stored = await storeAndPublish({ conversationId, linkId, sessionAddress: address, clientId, text });
      return { id: stored.id, conversationId };
    },

    async since(conversationId, afterId) {
      return (await listMessages(deps.db, conversationId, afterId)).flatMap((m) => toCitizenView(m) ?? []);
    },

    async shareLocation(address, input) {
      const i = parse(locationInput, input);
      const conversation = await conversationOfSession(deps, address);
      if (!conversation) throw new ConflictError('send a message first: there is no open conversation to share your location with', 'no_conversation');
      await deps.recordLocation({
        conversationId: conversation.id,
        source: 'browser',
        latitude: i.latitude,
        longitude: i.longitude,
        uncertaintyMeters: i.accuracy ?? null,
        at: i.at ? new Date(i.at) : new Date(),
      });
      return { id: 0 };
    },

    async sendPhoto(address, input, link) {
      const i = parse(photoInput, input);
      if (!inlineImageType(i.contentType)) throw new ValidationError('only JPEG, PNG, GIF or WebP photos', 'contentType');
      if (i.data.length === 0) throw new ValidationError('the photo is empty', 'data');
      if (i.data.length > MAX_PHOTO_BYTES) throw new AppError('payload_too_large', `photos up to ${Math.floor(MAX_PHOTO_BYTES / 1000)} kB`, { status: 413 });
      const conversation = await conversationOfSession(deps, address);
      if (!conversation) throw new ConflictError('send a message first: there is no open conversation to send the photo to', 'no_conversation');
      const attachments = await putAttachments(deps.db, [{ name: i.name, contentType: i.contentType, content: i.data }]);
      const stored = await storeAndPublish({
        conversationId: conversation.id,
        linkId: link,
        sessionAddress: address,
        clientId: i.clientId,
        text: '',
        attachments,
      });
      return { id: stored.id };
    },
  };
}

/** The room an invited session joins so agents' replies reach it. */
export const invitedRoom = (conversationId: string): string => rooms.citizen(invitedChatAddress(conversationId));
