/**
 * The console and citizen contracts: Socket.IO event maps shared by the
 * server and the browser code (src/ui). Every client request takes an ack
 * that answers `Reply<T>`.
 */
import type { Namespace } from 'socket.io';
import type {
  Channel,
  ConversationStatus,
  DeliveryStatus,
  Direction,
  Presence,
  Resolution,
  Role,
} from '../domain/types.ts';

export interface AgentView {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  presence: Presence;
  capacity: number;
  load: number;
}

export interface ConversationView {
  id: string;
  channel: Channel;
  status: ConversationStatus;
  priority: number;
  queueId: string | null;
  agentId: string | null;
  agentName: string | null;
  /** `phone` is the contact's number when it is a phone contact (SMS, voice): the console's click-to-call. */
  contact: { id: string; display: string; name: string | null; phone: string | null };
  openedAt: string;
  queuedAt: string;
  offeredAt: string | null;
  acceptedAt: string | null;
  resolvedAt: string | null;
  lastMessageAt: string;
  resolution: Resolution | null;
  confidential: boolean;
  /** Set while the conversation is a call-back task: a call was abandoned before a call-taker answered. */
  callbackRequestedAt: string | null;
  version: number;
}

/**
 * An attachment as the console sees it. `url` is the gateway's own API path
 * to its content (fetched with the console's bearer token), present when the
 * content is stored; the content and its hash never travel over the socket.
 */
export interface AttachmentView {
  name: string;
  contentType: string;
  size: number;
  url?: string;
}

export interface MessageView {
  id: number;
  conversationId: string;
  direction: Direction;
  body: string;
  attachments: AttachmentView[];
  deliveryStatus: DeliveryStatus;
  deliveryError: string | null;
  authorName: string | null;
  clientMessageId: string | null;
  createdAt: string;
}

export type Reply<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string; field?: string } };
export type Ack<T> = (reply: Reply<T>) => void;

export interface AgentServerEvents {
  'conversation:offered': (conversation: ConversationView) => void;
  'conversation:updated': (conversation: ConversationView) => void;
  'message:new': (message: MessageView) => void;
  'message:status': (update: { id: number; conversationId: string; status: DeliveryStatus; error: string | null }) => void;
  /** `agentId` is null when the citizen is typing. */
  typing: (update: { conversationId: string; who: string; agentId: string | null; typing: boolean }) => void;
  'presence:changed': (agent: AgentView) => void;
  /** To supervisors: a channel link went down or came back. */
  'link:status': (update: LinkStatusUpdate) => void;
}

export interface LinkStatusUpdate {
  linkId: string;
  name: string;
  channel: Channel;
  state: 'starting' | 'connecting' | 'up' | 'down' | 'stopped';
  lastError: string | null;
  at: string;
}

export interface AgentClientEvents {
  'presence:set': (input: { presence: Presence }, ack: Ack<AgentView>) => void;
  'conversation:list': (input: Record<string, never>, ack: Ack<ConversationView[]>) => void;
  'conversation:open': (
    input: { conversationId: string },
    ack: Ack<{ conversation: ConversationView; messages: MessageView[] }>,
  ) => void;
  'conversation:accept': (input: { conversationId: string }, ack: Ack<ConversationView>) => void;
  'conversation:resolve': (input: { conversationId: string; resolution: Resolution }, ack: Ack<ConversationView>) => void;
  'message:send': (input: { conversationId: string; text: string; clientId: string }, ack: Ack<MessageView>) => void;
  'messages:since': (input: { conversationId: string; afterId: number }, ack: Ack<MessageView[]>) => void;
  typing: (input: { conversationId: string; typing: boolean }) => void;
}

/** What a citizen sees of a message: no internal notes, no agent identities beyond a display name. */
export interface CitizenMessageView {
  id: number;
  direction: 'inbound' | 'outbound' | 'system';
  body: string;
  deliveryStatus: DeliveryStatus;
  authorName: string | null;
  clientMessageId: string | null;
  createdAt: string;
}

export interface CitizenServerEvents {
  'message:new': (message: CitizenMessageView) => void;
  typing: (update: { typing: boolean; name: string }) => void;
}

export interface CitizenClientEvents {
  'session:start': (input: { name?: string }, ack: Ack<{ token: string }>) => void;
  'message:send': (input: { clientId: string; text: string }, ack: Ack<{ id: number; conversationId: string }>) => void;
  'messages:since': (input: { afterId: number }, ack: Ack<CitizenMessageView[]>) => void;
  'message:read': (input: { id: number }) => void;
  typing: (input: { typing: boolean }) => void;
}

export interface CitizenSocketData {
  /** The contact address of the session (a hash of its token), when resumed. */
  address?: string;
}

export interface AgentSocketData {
  agentId: string;
  role: Role;
  displayName: string;
}

export type AgentNamespace = Namespace<AgentClientEvents, AgentServerEvents, Record<string, never>, AgentSocketData>;
export type CitizenNamespace = Namespace<CitizenClientEvents, CitizenServerEvents, Record<string, never>, CitizenSocketData>;

export const rooms = {
  agent: (agentId: string) => `agent:${agentId}`,
  conversation: (conversationId: string) => `conversation:${conversationId}`,
  supervisors: 'supervisors',
  citizen: (address: string) => `citizen:${address}`,
} as const;
