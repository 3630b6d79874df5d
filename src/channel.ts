/**
 * The contract between the core and the channel adapters. Adapters import
 * these types (re-exported from adapters/types.ts); the core never imports an
 * adapter.
 */
import type { Express } from 'express';
import type { z } from 'zod';
import type { Channel, DeliveryStatus } from './domain/types.ts';
import type { Logger } from './log.ts';
import type { Attachment, Location } from './store/schema.ts';
import type { CitizenNamespace } from './realtime/events.ts';
import type { Db } from './store/db.ts';

/** One citizen message from any channel, normalised. */
export interface InboundMessage {
  channel: Channel;
  channelLinkId: string;
  /** Sender address: MSISDN, e-mail address, Slack user, web-chat session. */
  from: string;
  fromName?: string;
  /** The channel's id for this message: the idempotency key within the link. */
  channelMessageId: string;
  /** The id the sender's own client chose (web chat), shown back to that client. */
  clientMessageId?: string;
  text: string;
  attachments?: Attachment[];
  location?: Location;
  receivedAt: Date;
  /**
   * Channel message ids of this link the message answers (e-mail In-Reply-To
   * and References). It joins the conversation holding the latest of them when
   * that one is open, or reopens it when closed and the contact has no other
   * open conversation; otherwise the sender's open conversation as usual.
   */
  threadIds?: string[];
}

export interface IngestResult {
  conversationId: string;
  messageId: number;
  contactId: string;
  /** True when the channel message id was already stored; nothing was written. */
  duplicate: boolean;
}

/** A message for the adapter to deliver to the citizen. */
export interface OutboundMessage {
  messageId: number;
  conversationId: string;
  channel: Channel;
  channelLinkId: string;
  /** The contact's address on the channel. */
  to: string;
  text: string;
  attachments: Attachment[];
  /** A reply written by an agent, or a system notice (acknowledgement, closing text). */
  kind: 'reply' | 'system';
  /** The writing agent's display name, for channels that show it. */
  authorName: string | null;
}

export interface SendResult {
  status: Extract<DeliveryStatus, 'sent' | 'delivered'>;
  channelMessageId?: string;
}

export interface AdapterDeps {
  /** Hands a message to ingest; resolves after it is committed. */
  receive(message: InboundMessage): Promise<IngestResult>;
  /** Records a delivery status reported later by the channel (receipts, reads). */
  updateDelivery(messageId: number, status: DeliveryStatus, error?: string): Promise<void>;
  /** Tells agents in a conversation that the citizen is typing. */
  citizenTyping(conversationId: string, typing: boolean): void;
  /** Pushes a conversation's current state to the consoles showing it (after an adapter changed it outside ingest). */
  publishConversation(conversationId: string): Promise<void>;
  /** Pushes a message an adapter stored outside ingest (a call's log note) to the consoles showing its conversation. */
  publishMessage(messageId: number): Promise<void>;
  /**
   * Records a position the citizen's device or the carrier gave for a
   * conversation: kept in its history, current unless an agent confirmed one.
   */
  recordLocation(input: {
    conversationId: string;
    source: 'browser' | 'carrier' | 'provider';
    latitude: number;
    longitude: number;
    uncertaintyMeters?: number | null;
    at: Date;
  }): Promise<void>;
  db: Db;
  app: Express;
  citizens: CitizenNamespace;
  log: Logger;
  maxMessageChars: number;
}

/** A link's live state, as the process running it sees it. */
export interface LinkStatus {
  state: 'starting' | 'connecting' | 'up' | 'down' | 'stopped';
  since: string;
  lastError: string | null;
  /** Counters such as PDUs and messages in and out, throttled, receipts. */
  counters: Record<string, number>;
  /** Anything else worth showing an administrator (bound peer, bind mode). */
  detail?: Record<string, unknown>;
}

/** A stored link as its runner receives it: settings validated, secrets included. */
export interface LinkConfig {
  id: string;
  name: string;
  channel: Channel;
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
}

/**
 * Runs the links of a channel that PSAP administrators manage at run time
 * (SMPP binds, mailboxes). Each link runs in one process at a time, under a
 * lease the core holds for it.
 */
export interface LinkRunner {
  /** Validates a link's settings and secrets; throws ValidationError naming the field. */
  parse(input: { settings: unknown; secrets: unknown }): { settings: Record<string, unknown>; secrets: Record<string, string> };
  /** The zod schemas `parse` validates with, for the API document (`/api/docs`); absent: documented as free-form objects. */
  readonly schemas?: { readonly settings: z.ZodType; readonly secrets: z.ZodType };
  /** Starts the link (bind, connect); resolves once started, not once up. */
  start(link: LinkConfig): Promise<void>;
  /** Stops the link within a deadline. */
  stop(linkId: string): Promise<void>;
  /** The link's live status, if this process runs it. */
  status(linkId: string): LinkStatus | undefined;
}

export interface ChannelAdapter {
  readonly channel: Channel;
  /** Binds, logs in or mounts routes; pushes inbound messages through deps.receive. */
  start(deps: AdapterDeps): Promise<void>;
  /** Unbinds or drains within a deadline. */
  stop(): Promise<void>;
  /** Delivers one message; throws ChannelSendError with `retryable`. */
  send(message: OutboundMessage): Promise<SendResult>;
  /** Present for channels whose links administrators add at run time. */
  readonly links?: LinkRunner;
  /** Shows the agent typing to the citizen, where the channel can. */
  agentTyping?(conversationId: string, to: string, typing: boolean, name: string): void;
}
