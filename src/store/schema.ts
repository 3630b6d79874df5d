/**
 * The conversation store: the one source of truth. drizzle-kit generates the
 * migrations in migrations/ from this file.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type {
  ActorType,
  Channel,
  ConversationStatus,
  DeliveryStatus,
  Direction,
  Presence,
  Resolution,
  Role,
} from '../domain/types.ts';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const agents = pgTable('agents', {
  id: uuid('id').primaryKey().defaultRandom(),
  username: text('username').notNull().unique(),
  displayName: text('display_name').notNull(),
  passwordHash: text('password_hash').notNull(),
  role: text('role').$type<Role>().notNull().default('agent'),
  presence: text('presence').$type<Presence>().notNull().default('offline'),
  presenceSince: timestamp('presence_since', { withTimezone: true }).notNull().defaultNow(),
  /** Capacity in load units; a conversation weighs its channel's weight. */
  capacity: integer('capacity').notNull().default(3),
  /** Units currently held by offered and active conversations. */
  load: integer('load').notNull().default(0),
  skills: text('skills').array().notNull().default(sql`'{}'::text[]`),
  languages: text('languages').array().notNull().default(sql`'{}'::text[]`),
  /** Queues the agent serves; empty serves every queue. */
  queueIds: uuid('queue_ids').array().notNull().default(sql`'{}'::uuid[]`),
  /** When the agent was last offered work; the longest idle is offered first. */
  idleSince: timestamp('idle_since', { withTimezone: true }).notNull().defaultNow(),
  disabled: boolean('disabled').notNull().default(false),
  /** Offers in a row that timed out; at the queue's limit the agent is set away. */
  missedOffers: integer('missed_offers').notNull().default(0),
  /** Presence to restore when a do-not-disturb set by the system (a voice call) ends. */
  presenceBeforeDnd: text('presence_before_dnd').$type<Presence>(),
  /** Where alerts reach the agent (escalations for supervisors). */
  email: text('email'),
  phone: text('phone'),
  version: integer('version').notNull().default(0),
  createdAt: createdAt(),
});

export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    agentId: uuid('agent_id').notNull().references(() => agents.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('sessions_agent_idx').on(t.agentId)],
);

export const queues = pgTable('queues', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  description: text('description').notNull().default(''),
  /** Seconds before an unanswered conversation escalates. */
  answerTargetSeconds: integer('answer_target_seconds').notNull().default(50),
  /** Seconds an agent has to accept an offer before it goes to the next one. */
  offerTimeoutSeconds: integer('offer_timeout_seconds').notNull().default(30),
  /** Waiting conversations above which new texts are bounced back. */
  maxWaiting: integer('max_waiting').notNull().default(500),
  /** Minutes after an emergency conversation during which the citizen reaches the same agent first. */
  /** Fractional minutes are allowed (0.5 is 30 s). */
  callbackWindowMinutes: doublePrecision('callback_window_minutes').notNull().default(60),
  /** Minutes without a message after which an open conversation is closed with `inactivityText`. */
  /** Fractional minutes are allowed. */
  inactivityMinutes: doublePrecision('inactivity_minutes').notNull().default(30),
  /** Offers in a row an agent may miss before being set away. */
  missedOffersBeforeAway: integer('missed_offers_before_away').notNull().default(3),
  /** When texts are taken: `{ timeZone, days: { mon: [["08:00","20:00"]], ... } }`; null: always. */
  openingHours: jsonb('opening_hours').$type<OpeningHours>(),
  /** Sent at once when a text cannot be taken (nobody signed in, closed, queue full). */
  bounceBackText: text('bounce_back_text')
    .notNull()
    .default('There is no text service to 911 available at this time. Please make a voice call to 911.'),
  /** Sent to the citizen when their conversation escalates. */
  escalationText: text('escalation_text').notNull().default('We are still connecting you to a call-taker. If you can, call 911.'),
  /** Sent when an agent accepts: the citizen knows a person has seen the message. */
  acknowledgementText: text('acknowledgement_text').notNull().default('A 911 call-taker has seen your message and is with you now.'),
  /** Sent when a conversation is closed for inactivity. */
  inactivityText: text('inactivity_text')
    .notNull()
    .default('This conversation was closed because there were no new messages. If you still need help, write again or call 911.'),
  /** The e-mail sent to emergency contacts when an agent flags an emergency ({{contact}}, {{agent}}, {{summary}}, {{link}}). */
  emergencyContactTemplate: text('emergency_contact_template')
    .notNull()
    .default('An emergency was flagged by {{agent}} in a conversation with {{contact}}.\n\n{{summary}}\n\n{{link}}'),
  isDefault: boolean('is_default').notNull().default(false),
  createdAt: createdAt(),
});

/** A queue's opening hours, in its time zone; days without an entry are closed. */
export interface OpeningHours {
  timeZone: string;
  days: Partial<Record<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun', Array<[string, string]>>>;
}

export type RuleKind = 'keyword' | 'channel' | 'repeat_contact';

export const routingRules = pgTable('routing_rules', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  kind: text('kind').$type<RuleKind>().notNull(),
  /** keyword: words or phrases (any matches); channel: channel names. */
  terms: text('terms').array().notNull().default(sql`'{}'::text[]`),
  /** repeat_contact: how far back an earlier conversation counts. */
  windowSeconds: integer('window_seconds'),
  /** Priority points added when the rule matches; matching rules add up. */
  priority: integer('priority').notNull(),
  /** Queue a matching conversation goes to (null keeps the default queue). */
  queueId: uuid('queue_id').references(() => queues.id, { onDelete: 'set null' }),
  position: integer('position').notNull().default(0),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: createdAt(),
});

export const channelLinks = pgTable('channel_links', {
  id: uuid('id').primaryKey().defaultRandom(),
  channel: text('channel').$type<Channel>().notNull(),
  name: text('name').notNull().unique(),
  /** Channel-specific settings, validated by the adapter's own schema. */
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  /** Secrets (passwords, tokens); never returned by the API. */
  secrets: jsonb('secrets').$type<Record<string, string>>().notNull().default({}),
  enabled: boolean('enabled').notNull().default(true),
  /** Bumped on every change, so the process running the link restarts it. */
  version: integer('version').notNull().default(0),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  /** Deleted links keep their row: conversations still refer to them. */
  deletedAt: timestamp('deleted_at', { withTimezone: true }),
});

/**
 * Which process runs a link (binds an SMPP session, holds an IMAP IDLE): a
 * lease renewed by its holder, taken over by another process once expired.
 * The holder also publishes the link's live status here.
 */
export const linkLeases = pgTable('link_leases', {
  linkId: uuid('link_id')
    .primaryKey()
    .references(() => channelLinks.id, { onDelete: 'cascade' }),
  holder: text('holder').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  status: jsonb('status').$type<Record<string, unknown>>().notNull().default({}),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Who a citizen is, per kind of address: one phone number is one contact
 * whether it texts (SMPP, Twilio SMS) or calls, so texts and calls meet in one
 * conversation. `channel` holds the kind: 'phone' for sms and voice, else the
 * channel ('email', 'webchat', 'slack').
 */
export const contacts = pgTable(
  'contacts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    channel: text('channel').$type<ContactKind>().notNull(),
    address: text('address').notNull(),
    name: text('name'),
    language: text('language'),
    linkedContactId: uuid('linked_contact_id'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('contacts_channel_address_uq').on(t.channel, t.address)],
);

/** The kind of address a contact is known by (see `contacts`). */
export type ContactKind = 'phone' | Exclude<Channel, 'sms' | 'voice' | 'twilio'>;

export interface Location {
  latitude: number;
  longitude: number;
  uncertaintyMeters?: number;
  source: 'browser' | 'carrier' | 'provider' | 'agent';
  at: string;
}

export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    channel: text('channel').$type<Channel>().notNull(),
    channelLinkId: uuid('channel_link_id')
      .notNull()
      .references(() => channelLinks.id),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id),
    status: text('status').$type<ConversationStatus>().notNull().default('queued'),
    priority: integer('priority').notNull().default(0),
    queueId: uuid('queue_id').references(() => queues.id),
    /** The agent the conversation is offered to or handled by. */
    agentId: uuid('agent_id').references(() => agents.id),
    /** Load units the conversation holds on its agent while offered or active. */
    weight: integer('weight').notNull().default(1),
    version: integer('version').notNull().default(0),
    subject: text('subject'),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull().defaultNow(),
    /** When the conversation last entered the queue (ordering key with priority). */
    queuedAt: timestamp('queued_at', { withTimezone: true }).notNull().defaultNow(),
    firstOfferedAt: timestamp('first_offered_at', { withTimezone: true }),
    offeredAt: timestamp('offered_at', { withTimezone: true }),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }),
    firstResponseAt: timestamp('first_response_at', { withTimezone: true }),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    lastMessageAt: timestamp('last_message_at', { withTimezone: true }).notNull().defaultNow(),
    resolution: text('resolution').$type<Resolution>(),
    confidential: boolean('confidential').notNull().default(false),
    location: jsonb('location').$type<Location>(),
    /**
     * Set when a call from the contact was abandoned before a call-taker
     * answered: the conversation is a call-back task, raised above every
     * rule-based priority (see `calls`).
     */
    callbackRequestedAt: timestamp('callback_requested_at', { withTimezone: true }),
    /** When the conversation missed its answer target and escalated (null: it has not). */
    escalatedAt: timestamp('escalated_at', { withTimezone: true }),
    /** Flagged as an emergency by an agent: the callback window applies, emergency contacts are told. */
    emergency: boolean('emergency').notNull().default(false),
    /** The conversation this one follows (a new message after an inactivity close, a callback). */
    previousConversationId: uuid('previous_conversation_id'),
    /** The agent a callback-window message goes to first, bypassing capacity and presence. */
    preferredAgentId: uuid('preferred_agent_id').references(() => agents.id),
  },
  (t) => [
    // One open conversation per contact: concurrent first messages converge on it.
    uniqueIndex('conversations_open_contact_uq')
      .on(t.contactId)
      .where(sql`status in ('queued', 'offered', 'active', 'on_hold')`),
    index('conversations_waiting_idx')
      .on(t.priority.desc(), t.queuedAt)
      .where(sql`status = 'queued'`),
    index('conversations_agent_idx').on(t.agentId),
    index('conversations_opened_idx').on(t.openedAt),
    // A contact's history: repeat contacts, per-sender limits.
    index('conversations_contact_idx').on(t.contactId, t.openedAt),
  ],
);

export interface Attachment {
  name: string;
  contentType: string;
  size: number;
  url?: string;
  /** SHA-256 (hex) of the content, kept once in `attachment_blobs`. */
  sha256?: string;
}

export const messages = pgTable(
  'messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    channelLinkId: uuid('channel_link_id')
      .notNull()
      .references(() => channelLinks.id),
    /** The channel's own id for the message: the idempotency key. */
    channelMessageId: text('channel_message_id'),
    direction: text('direction').$type<Direction>().notNull(),
    authorAgentId: uuid('author_agent_id').references(() => agents.id),
    body: text('body').notNull(),
    attachments: jsonb('attachments').$type<Attachment[]>().notNull().default([]),
    deliveryStatus: text('delivery_status').$type<DeliveryStatus>().notNull(),
    deliveryError: text('delivery_error'),
    /** The id the sending client chose, so a retried send is stored once. */
    clientMessageId: text('client_message_id'),
    receivedAt: timestamp('received_at', { withTimezone: true }),
    /** When the retention policy removed the body and attachments (the row and the audit trail stay). */
    purgedAt: timestamp('purged_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // Inbound only: the idempotency key of what citizens send. Outbound rows keep the id the
    // channel gave them (an SMSC message id), which channels may reuse.
    uniqueIndex('messages_channel_message_uq').on(t.channelLinkId, t.channelMessageId).where(sql`direction = 'inbound'`),
    uniqueIndex('messages_client_message_uq').on(t.conversationId, t.clientMessageId),
    index('messages_conversation_idx').on(t.conversationId, t.id),
    // Replies by the channel's id for them: e-mail threading (In-Reply-To names our Message-ID).
    index('messages_outbound_channel_message_idx').on(t.channelLinkId, t.channelMessageId).where(sql`direction = 'outbound'`),
  ],
);

export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    conversationId: uuid('conversation_id').references(() => conversations.id),
    type: text('type').notNull(),
    actorType: text('actor_type').$type<ActorType>().notNull(),
    actorId: text('actor_id'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('events_conversation_idx').on(t.conversationId, t.id), index('events_type_idx').on(t.type, t.createdAt)],
);

export type OutboxKind = 'route' | 'deliver';

/**
 * Work committed with its cause and not yet acknowledged by a worker. The
 * sweeper re-enqueues rows left unprocessed (a crash between commit and
 * enqueue, a flushed Redis).
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').$type<OutboxKind>().notNull(),
    conversationId: uuid('conversation_id').notNull(),
    messageId: bigint('message_id', { mode: 'number' }),
    createdAt: createdAt(),
    lastEnqueuedAt: timestamp('last_enqueued_at', { withTimezone: true }),
    enqueueCount: integer('enqueue_count').notNull().default(0),
    processedAt: timestamp('processed_at', { withTimezone: true }),
  },
  (t) => [
    index('outbox_pending_idx').on(t.createdAt).where(sql`processed_at is null`),
    index('outbox_pending_conversation_idx').on(t.conversationId).where(sql`processed_at is null`),
  ],
);

/** PostgreSQL bytea as a Node Buffer. */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * Parts of concatenated SMS received on an SMPP link, kept until their
 * message is assembled and handed to ingest, so a part acknowledged to the
 * carrier survives a crash. A part repeated by the carrier is stored once:
 * the unique key covers the concatenation group, the part number and a hash
 * of its bytes (a later message reusing the 8-bit reference differs in its
 * bytes). Assembled rows stay a while to recognise late repeats.
 */
export const smsParts = pgTable(
  'sms_parts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    linkId: uuid('link_id')
      .notNull()
      .references(() => channelLinks.id, { onDelete: 'cascade' }),
    source: text('source').notNull(),
    destination: text('destination').notNull(),
    /** 'udh8' | 'udh16' | 'sar' */
    concatKind: text('concat_kind').notNull(),
    concatRef: integer('concat_ref').notNull(),
    concatTotal: integer('concat_total').notNull(),
    concatSeq: integer('concat_seq').notNull(),
    dataCoding: integer('data_coding').notNull(),
    payload: bytea('payload').notNull(),
    /** sha256 of data coding and payload, hex: part of the unique key. */
    payloadHash: text('payload_hash').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    /** The stored message the part became part of; null while waiting. */
    assembledMessageId: bigint('assembled_message_id', { mode: 'number' }),
    assembledAt: timestamp('assembled_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('sms_parts_part_uq').on(t.linkId, t.source, t.destination, t.concatKind, t.concatRef, t.concatTotal, t.concatSeq, t.payloadHash),
    index('sms_parts_waiting_idx').on(t.linkId, t.receivedAt).where(sql`assembled_message_id is null`),
    index('sms_parts_assembled_idx').on(t.linkId, t.assembledAt).where(sql`assembled_message_id is not null`),
  ],
);

/**
 * The SMSC's message id of every SMS part submitted for an outbound message,
 * so a delivery receipt for any part maps back to the message after a
 * restart, and a retried send skips the parts the SMSC already accepted.
 */
export const smsSubmissions = pgTable(
  'sms_submissions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    linkId: uuid('link_id')
      .notNull()
      .references(() => channelLinks.id, { onDelete: 'cascade' }),
    /** The message_id of submit_sm_resp. */
    smscMessageId: text('smsc_message_id').notNull(),
    messageId: bigint('message_id', { mode: 'number' })
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    part: integer('part').notNull(),
    parts: integer('parts').notNull(),
    /** 'sent' until a receipt says 'delivered' or 'failed'. */
    status: text('status').$type<'sent' | 'delivered' | 'failed'>().notNull().default('sent'),
    error: text('error'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('sms_submissions_smsc_uq').on(t.linkId, t.smscMessageId), index('sms_submissions_message_idx').on(t.messageId)],
);

/**
 * Where each mailbox link has read up to: the folder's UIDVALIDITY and the
 * highest UID stored (and flagged \Seen), so a restart or an outage reads
 * only newer mail. A changed UIDVALIDITY means the folder is re-read from the
 * start; ingest drops what it already has by Message-ID.
 */
export const mailboxState = pgTable('mailbox_state', {
  linkId: uuid('link_id')
    .primaryKey()
    .references(() => channelLinks.id, { onDelete: 'cascade' }),
  uidValidity: bigint('uid_validity', { mode: 'number' }).notNull(),
  lastUid: bigint('last_uid', { mode: 'number' }).notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * What the gateway keeps of each stored inbound e-mail beyond the message
 * row: its subject, its References (to thread replies) and whether a machine
 * sent it (bounces and auto-replies are stored but never answered).
 */
export const emailInbound = pgTable(
  'email_inbound',
  {
    messageId: bigint('message_id', { mode: 'number' })
      .primaryKey()
      .references(() => messages.id, { onDelete: 'cascade' }),
    linkId: uuid('link_id')
      .notNull()
      .references(() => channelLinks.id, { onDelete: 'cascade' }),
    subject: text('subject').notNull(),
    references: jsonb('references').$type<string[]>().notNull().default([]),
    /** 'bounce' | 'auto-reply' | 'rate-limited' | null */
    automatic: text('automatic'),
    /** The whole plain text, quoted history included (the message body shows the new part). */
    fullText: text('full_text'),
    /** Why the mail could not be fully read or kept (malformed MIME, over a size limit), or null. */
    error: text('error'),
    /** Where the original stays: the IMAP UID in the link's folder at the time it was read. */
    uid: bigint('uid', { mode: 'number' }),
    createdAt: createdAt(),
  },
);

/**
 * Attachment contents, kept once per distinct content (SHA-256) apart from
 * the message rows, which carry only name, type, size and hash: a conversation
 * loads without megabytes of photos, and the console fetches each one on demand.
 */
export const attachmentBlobs = pgTable('attachment_blobs', {
  sha256: text('sha256').primaryKey(),
  size: integer('size').notNull(),
  data: bytea('data').notNull(),
  createdAt: createdAt(),
});

/** A Twilio call's status, as Twilio names it. */
export type CallStatus = 'queued' | 'initiated' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'failed' | 'no-answer' | 'canceled';

/**
 * Voice calls received on a Twilio link: one row per CallSid, opened with the
 * call's inbound message, moved by status callbacks (ringing, in progress,
 * completed with its duration) and the dial or queue result. `outcome` says
 * whether a call-taker answered; an abandoned call made its conversation a
 * call-back task (`conversations.callback_requested_at`).
 */
export const calls = pgTable(
  'calls',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    callSid: text('call_sid').notNull(),
    linkId: uuid('link_id')
      .notNull()
      .references(() => channelLinks.id),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    /** The inbound message the call opened ("Incoming call from …"). */
    messageId: bigint('message_id', { mode: 'number' }).references(() => messages.id),
    fromNumber: text('from_number').notNull(),
    /** The PSAP number called: texts back to the caller come from it. */
    toNumber: text('to_number').notNull(),
    status: text('status').$type<CallStatus>().notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    ringingAt: timestamp('ringing_at', { withTimezone: true }),
    inProgressAt: timestamp('in_progress_at', { withTimezone: true }),
    /** When a call-taker answered (the dial or queue result said so). */
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    durationSeconds: integer('duration_seconds'),
    /** 'answered' | 'abandoned' once known. */
    outcome: text('outcome').$type<'answered' | 'abandoned'>(),
    outcomeReason: text('outcome_reason'),
    /** The conversation this call made a call-back task, and its priority before (restored if an answer is reported late). */
    callbackConversationId: uuid('callback_conversation_id').references(() => conversations.id),
    priorityBeforeCallback: integer('priority_before_callback'),
    recordingSid: text('recording_sid'),
    recordingUrl: text('recording_url'),
    recordingDurationSeconds: integer('recording_duration_seconds'),
    transcriptionText: text('transcription_text'),
    transcriptionStatus: text('transcription_status'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('calls_call_sid_uq').on(t.callSid),
    index('calls_conversation_idx').on(t.conversationId),
    index('calls_callback_conversation_idx').on(t.callbackConversationId).where(sql`callback_conversation_id is not null`),
  ],
);

/**
 * Twilio SMS the gateway received or sent, by Twilio's MessageSid: which PSAP
 * number a citizen wrote to (replies come from it) and each reply's last
 * reported status. The message row itself holds what the console shows.
 */
export const twilioMessages = pgTable(
  'twilio_messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    linkId: uuid('link_id')
      .notNull()
      .references(() => channelLinks.id, { onDelete: 'cascade' }),
    sid: text('sid').notNull(),
    messageId: bigint('message_id', { mode: 'number' })
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    direction: text('direction').$type<'inbound' | 'outbound'>().notNull(),
    fromNumber: text('from_number'),
    toNumber: text('to_number').notNull(),
    /** Twilio's last reported status (queued, sent, delivered, undelivered, failed, received). */
    status: text('status').notNull(),
    errorCode: text('error_code'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('twilio_messages_sid_uq').on(t.linkId, t.sid), index('twilio_messages_message_idx').on(t.messageId)],
);

/**
 * Agents and supervisors sharing a conversation besides its owner
 * (`conversations.agent_id`): invited or joined, until they leave.
 */
export const conversationParticipants = pgTable(
  'conversation_participants',
  {
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id),
    invitedBy: uuid('invited_by').references(() => agents.id),
    joinedAt: timestamp('joined_at', { withTimezone: true }).notNull().defaultNow(),
    leftAt: timestamp('left_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.agentId] }), index('conversation_participants_agent_idx').on(t.agentId)],
);

/** Every location known for a conversation, newest last; `conversations.location` is the current one. */
export const locations = pgTable(
  'locations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    source: text('source').$type<Location['source']>().notNull(),
    latitude: doublePrecision('latitude').notNull(),
    longitude: doublePrecision('longitude').notNull(),
    uncertaintyMeters: doublePrecision('uncertainty_meters'),
    /** When the position was taken (the device's or carrier's time). */
    at: timestamp('at', { withTimezone: true }).notNull(),
    /** Confirmed by an agent: never replaced automatically. */
    confirmed: boolean('confirmed').notNull().default(false),
    agentId: uuid('agent_id').references(() => agents.id),
    createdAt: createdAt(),
  },
  (t) => [index('locations_conversation_idx').on(t.conversationId, t.id)],
);

/** Pre-set replies and questions in plain language, per language. */
export const cannedReplies = pgTable('canned_replies', {
  id: uuid('id').primaryKey().defaultRandom(),
  language: text('language').notNull().default('en'),
  title: text('title').notNull(),
  body: text('body').notNull(),
  position: integer('position').notNull().default(0),
  createdAt: createdAt(),
});

/** Who is e-mailed when an agent flags an emergency: per queue or per agent. */
export const emergencyContacts = pgTable('emergency_contacts', {
  id: uuid('id').primaryKey().defaultRandom(),
  queueId: uuid('queue_id').references(() => queues.id, { onDelete: 'cascade' }),
  agentId: uuid('agent_id').references(() => agents.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  email: text('email').notNull(),
  createdAt: createdAt(),
});

/** One-time links to `/chat` that join an existing conversation (text-from-911 follow-up). */
export const chatInvitations = pgTable('chat_invitations', {
  id: uuid('id').primaryKey().defaultRandom(),
  conversationId: uuid('conversation_id')
    .notNull()
    .references(() => conversations.id, { onDelete: 'cascade' }),
  tokenHash: text('token_hash').notNull().unique(),
  createdBy: uuid('created_by').references(() => agents.id),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
  createdAt: createdAt(),
});

export type AgentRow = typeof agents.$inferSelect;
export type ConversationRow = typeof conversations.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type ChannelLinkRow = typeof channelLinks.$inferSelect;
export type LinkLeaseRow = typeof linkLeases.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type SmsPartRow = typeof smsParts.$inferSelect;
export type SmsSubmissionRow = typeof smsSubmissions.$inferSelect;
export type CallRow = typeof calls.$inferSelect;
