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
  /** Agents and supervisors sharing the conversation besides its owner (joined, not left). */
  participantIds: string[];
  /** When it missed its answer target: offered to every available agent, first accept wins. */
  escalatedAt: string | null;
  /** Flagged as an emergency: the callback window applies after it. */
  emergency: boolean;
  /** The conversation this one follows (after an inactivity close, in a callback window). */
  previousConversationId: string | null;
  /** The agent a callback-window conversation goes to first. */
  preferredAgentId: string | null;
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

/**
 * One entry of a conversation's audit trail as the console's log shows it
 * ("alice joined", "transferred to queue Fire"): never shown to the citizen.
 */
export interface ConversationEventView {
  id: number;
  conversationId: string;
  /** `conversation.raised`, `conversation.accepted`, `participant.joined`, `conversation.transferred`, ... */
  type: string;
  actorName: string | null;
  data: Record<string, unknown>;
  at: string;
}

/** Who is in a conversation: its owner, its participants, and anyone else whose console has it open. */
export interface ParticipantView {
  agentId: string;
  displayName: string;
  role: Role;
  kind: 'owner' | 'participant' | 'watching';
  /** A console of theirs is connected with the conversation open. */
  connected: boolean;
}

/** A conversation with what the console needs to show it. */
export interface ConversationDetail {
  conversation: ConversationView;
  messages: MessageView[];
  events: ConversationEventView[];
  participants: ParticipantView[];
}

/** Who and where a conversation can go: agents (presence, load) and queues, for invites, transfers and the supervisor panel. */
export interface DirectoryView {
  agents: AgentView[];
  queues: Array<{ id: string; name: string }>;
}

/** Where a transfer goes: an agent (offered to them) or a queue (requeued there). */
export type TransferTarget = { agentId: string } | { queueId: string };

/** One entry of a conversation's location history (newest last); `current` marks conversations.location. */
export interface LocationView {
  id: number;
  source: 'browser' | 'carrier' | 'provider' | 'agent';
  latitude: number;
  longitude: number;
  uncertaintyMeters: number | null;
  /** When the position was taken. */
  at: string;
  /** Confirmed by an agent: never replaced automatically. */
  confirmed: boolean;
  current: boolean;
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
  /** A conversation's location history changed (a new position, a confirmation). */
  'location:updated': (update: { conversationId: string; locations: LocationView[] }) => void;
  /** To supervisors: a conversation missed its answer target. */
  'conversation:escalated': (payload: { conversation: ConversationView; reason: string; at: string }) => void;
  /** To the invited agent: someone asks them to join a conversation. */
  'conversation:invited': (invitation: { conversation: ConversationView; by: string; at: string }) => void;
  /** A new entry in a conversation's log (joined, left, transferred, ...). */
  'conversation:event': (event: ConversationEventView) => void;
  /** Who is in a conversation changed (joined, left, connected, disconnected). */
  'conversation:participants': (update: { conversationId: string; participants: ParticipantView[] }) => void;
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
  'conversation:open': (input: { conversationId: string }, ack: Ack<ConversationDetail>) => void;
  'conversation:accept': (input: { conversationId: string }, ack: Ack<ConversationView>) => void;
  'conversation:resolve': (input: { conversationId: string; resolution: Resolution }, ack: Ack<ConversationView>) => void;
  /** Flags the conversation as an emergency (its agent or a supervisor). */
  'conversation:flag-emergency': (input: { conversationId: string }, ack: Ack<ConversationView>) => void;
  'message:send': (input: { conversationId: string; text: string; clientId: string }, ack: Ack<MessageView>) => void;
  'messages:since': (input: { conversationId: string; afterId: number }, ack: Ack<MessageView[]>) => void;
  /** `note`: typing an internal note, which the citizen is not told about. */
  typing: (input: { conversationId: string; typing: boolean; note?: boolean }) => void;
  'conversation:invite': (input: { conversationId: string; agentId: string }, ack: Ack<ConversationView>) => void;
  'conversation:join': (input: { conversationId: string }, ack: Ack<ConversationDetail>) => void;
  'conversation:leave': (input: { conversationId: string }, ack: Ack<ConversationView>) => void;
  'conversation:transfer': (input: { conversationId: string; to: TransferTarget; note: string; clientId: string }, ack: Ack<ConversationView>) => void;
  'conversation:takeover': (input: { conversationId: string }, ack: Ack<ConversationView>) => void;
  'note:add': (input: { conversationId: string; text: string; clientId: string }, ack: Ack<MessageView>) => void;
  'notice:send': (input: { conversationId: string; text: string; clientId: string }, ack: Ack<MessageView>) => void;
  'directory:list': (input: Record<string, never>, ack: Ack<DirectoryView>) => void;
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
  /** Opens a session from a one-time invitation link (text-from-911): the session joins the invited conversation. */
  'invite:redeem': (input: { invite: string }, ack: Ack<{ token: string }>) => void;
  /** Shares the browser's position, after the citizen pressed the button that asks for it. */
  'location:share': (
    input: { latitude: number; longitude: number; accuracy?: number; at?: string },
    ack: Ack<{ id: number }>,
  ) => void;
  /** Sends a photo the citizen picked (size-limited). */
  'photo:send': (input: { clientId: string; name: string; contentType: string; data: ArrayBuffer }, ack: Ack<{ id: number }>) => void;
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
  /** The consoles of one login session (by token hash): disconnected together when it is revoked. */
  session: (tokenHash: string) => `session:${tokenHash}`,
  conversation: (conversationId: string) => `conversation:${conversationId}`,
  supervisors: 'supervisors',
  citizen: (address: string) => `citizen:${address}`,
} as const;

/** The citizen address (room) of browsers invited into a conversation; never a web-chat session hash (hex). */
export const invitedChatAddress = (conversationId: string): string => `conversation:${conversationId}`;
