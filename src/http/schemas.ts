/**
 * Request schemas of the HTTP API and the console socket: one definition
 * validates both.
 */
import { z } from 'zod';
import { AGENT_RESOLUTIONS, PRESENCES, ROLES } from '../domain/types.ts';

export const idParam = z.object({ id: z.string().uuid('must be a UUID') });

export const loginBody = z.object({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(500),
});

export const presenceBody = z.object({ presence: z.enum(PRESENCES) });

export const replyBody = (maxChars: number) =>
  z.object({
    text: z.string().trim().min(1, 'must not be empty').max(maxChars, `at most ${maxChars} characters`),
    clientId: z.string().min(1).max(100),
  });

/** What an agent closes a conversation as; `timed_out` is the inactivity timer's alone. */
export const resolveBody = z.object({ resolution: z.enum(AGENT_RESOLUTIONS) });

export const sinceQuery = z.object({ after: z.coerce.number().int().min(0).default(0) });

/** `/api/messages/:messageId/attachments/:index`: a message id (bigserial) and a position in its attachment list. */
export const attachmentParams = z.object({
  messageId: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'must be a message id (a positive integer)')
    .transform(Number),
  index: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,2})$/, 'must be an attachment index (0, 1, 2, ...)')
    .transform(Number),
});

/** `/webhooks/<channel>/:linkId/…`: the channel link a provider's webhook is for. */
export const webhookLinkParams = z.object({ linkId: z.uuid('must be a link id (UUID)') });

export const conversationRef = z.object({ conversationId: z.string().uuid('must be a UUID') });

/** An e-mail address (alerts to agents, emergency contacts). */
const email = z.string().trim().max(254).email('must be an e-mail address');

/** What an administrator sets on an agent; no defaults here, so a PATCH changes only what it names. */
const agentFields = {
  displayName: z.string().min(1).max(120),
  password: z.string().min(12, 'at least 12 characters').max(500),
  role: z.enum(ROLES),
  capacity: z.number().int().min(1).max(50),
  skills: z.array(z.string().max(50)).max(50),
  languages: z.array(z.string().max(20)).max(20),
  queueIds: z.array(z.string().uuid()).max(100),
  /** Where alerts reach the agent (escalations for supervisors); null removes it. */
  email: email.nullable(),
  phone: z
    .string()
    .trim()
    .max(40)
    .regex(/^\+?[0-9 ()./-]{3,40}$/, 'must be a phone number (digits, spaces, + ( ) . / -)')
    .nullable(),
};

export const newAgentBody = z.object({
  username: z
    .string()
    .min(2)
    .max(64)
    .regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, . _ and - only'),
  ...agentFields,
  role: agentFields.role.default('agent'),
  capacity: agentFields.capacity.default(3),
  skills: agentFields.skills.default([]),
  languages: agentFields.languages.default([]),
  queueIds: agentFields.queueIds.default([]),
  email: agentFields.email.optional(),
  phone: agentFields.phone.optional(),
});

/** A change to an agent: only the fields given (a default would silently reset the others). */
export const updateAgentBody = z.object({ ...agentFields, disabled: z.boolean() }).partial();

const HHMM = /^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/;
const time = z.string().regex(HHMM, 'must be a time HH:MM (00:00 to 24:00)');
const dayRanges = z
  .array(
    z.tuple([time, time]).refine(([from, to]) => from !== to && from !== '24:00', 'a range is ["HH:MM","HH:MM"] with a start before 24:00 and an end that differs'),
  )
  .max(10);

/** Whether the runtime knows `timeZone` (an IANA name such as America/Chicago). */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** A queue's opening hours; days without an entry are closed; null is always open. */
export const openingHoursBody = z
  .object({
    timeZone: z.string().min(1).max(100).refine(isTimeZone, 'must be an IANA time zone such as America/Chicago'),
    days: z
      .object({ mon: dayRanges, tue: dayRanges, wed: dayRanges, thu: dayRanges, fri: dayRanges, sat: dayRanges, sun: dayRanges })
      .partial()
      .strict(),
  })
  .strict();

const queueText = z.string().trim().min(1, 'must not be empty').max(1000, 'at most 1000 characters');

/** What an administrator sets on a queue; no defaults here (see `newQueueBody`, `updateQueueBody`). */
const queueFields = {
  name: z.string().min(1).max(120),
  description: z.string().max(1000),
  answerTargetSeconds: z.number().int().min(5).max(3600),
  offerTimeoutSeconds: z.number().int().min(5).max(600),
  maxWaiting: z.number().int().min(1).max(100000),
  /** Fractional minutes allowed; 0 turns the callback window off. */
  callbackWindowMinutes: z.number().min(0).max(1440),
  inactivityMinutes: z.number().min(1).max(1440),
  missedOffersBeforeAway: z.number().int().min(1).max(100),
  openingHours: openingHoursBody.nullable(),
  bounceBackText: queueText,
  escalationText: queueText,
  acknowledgementText: queueText,
  inactivityText: queueText,
  emergencyContactTemplate: queueText,
};

/** A new queue: settings not given keep the store's defaults. */
export const newQueueBody = z
  .object(queueFields)
  .partial()
  .required({ name: true })
  .extend({
    description: queueFields.description.default(''),
    answerTargetSeconds: queueFields.answerTargetSeconds.default(50),
    offerTimeoutSeconds: queueFields.offerTimeoutSeconds.default(30),
    maxWaiting: queueFields.maxWaiting.default(500),
  })
  .strict();

/** A change to a queue: only the fields given. */
export const updateQueueBody = z.object(queueFields).partial().strict();

/** An emergency contact: of a queue or of an agent (exactly one), e-mailed when an agent flags an emergency. */
export const newEmergencyContactBody = z
  .object({
    queueId: z.string().uuid('must be a UUID').optional(),
    agentId: z.string().uuid('must be a UUID').optional(),
    name: z.string().trim().min(1).max(120),
    email,
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.queueId === undefined) === (v.agentId === undefined)) {
      ctx.addIssue({ code: 'custom', path: [v.queueId === undefined ? 'queueId' : 'agentId'], message: 'give exactly one of queueId and agentId' });
    }
  });

export const emergencyContactsQuery = z.object({
  queueId: z.string().uuid('must be a UUID').optional(),
  agentId: z.string().uuid('must be a UUID').optional(),
});

export const newRuleBody = z.object({
  name: z.string().min(1).max(120),
  kind: z.enum(['keyword', 'channel', 'repeat_contact']),
  terms: z.array(z.string().min(1).max(200)).max(200).default([]),
  windowSeconds: z.number().int().min(1).max(7 * 24 * 3600).nullable().default(null),
  priority: z.number().int().min(-1000).max(1000),
  queueId: z.string().uuid().nullable().default(null),
  position: z.number().int().min(0).default(0),
  enabled: z.boolean().default(true),
});

/** Inviting an agent or supervisor into a conversation. */
export const inviteBody = z.object({ agentId: z.string().uuid('must be a UUID') });

/** A note or a one-way notice: like a reply, with its own client id for retries. */
export const noteBody = replyBody;

/** A transfer: to an agent (offered to them) or a queue, with an internal note for whoever takes it. */
export const transferBody = (maxChars: number) =>
  z.object({
    to: z.union([z.object({ agentId: z.string().uuid('must be a UUID') }).strict(), z.object({ queueId: z.string().uuid('must be a UUID') }).strict()], {
      error: 'must be { agentId } or { queueId }',
    }),
    note: z.string().trim().min(1, 'must not be empty: say why and what the next person needs to know').max(maxChars, `at most ${maxChars} characters`),
    clientId: z.string().min(1).max(100),
  });
