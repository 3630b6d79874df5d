/**
 * Request schemas of the HTTP API and the console socket: one definition
 * validates both.
 */
import { z } from 'zod';
import { PRESENCES, RESOLUTIONS, ROLES } from '../domain/types.ts';

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

export const resolveBody = z.object({ resolution: z.enum(RESOLUTIONS) });

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

export const conversationRef = z.object({ conversationId: z.string().uuid('must be a UUID') });

export const newAgentBody = z.object({
  username: z
    .string()
    .min(2)
    .max(64)
    .regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, . _ and - only'),
  displayName: z.string().min(1).max(120),
  password: z.string().min(12, 'at least 12 characters').max(500),
  role: z.enum(ROLES).default('agent'),
  capacity: z.number().int().min(1).max(50).default(3),
  skills: z.array(z.string().max(50)).max(50).default([]),
  languages: z.array(z.string().max(20)).max(20).default([]),
  queueIds: z.array(z.string().uuid()).max(100).default([]),
});

export const updateAgentBody = newAgentBody.omit({ username: true }).partial().extend({ disabled: z.boolean().optional() });

export const newQueueBody = z.object({
  name: z.string().min(1).max(120),
  description: z.string().max(1000).default(''),
  answerTargetSeconds: z.number().int().min(5).max(3600).default(50),
  offerTimeoutSeconds: z.number().int().min(5).max(600).default(30),
  maxWaiting: z.number().int().min(1).max(100000).default(500),
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
