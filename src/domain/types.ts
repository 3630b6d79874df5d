/**
 * The vocabulary of the conversation model. String-literal unions, shared by
 * the store, the API, the sockets and the browser code.
 */

/**
 * Channels. A conversation's channel is what the citizen used; a channel
 * link's is the adapter serving it, the same except for `twilio`: a Twilio
 * account link whose conversations are `sms` or `voice`.
 */
export const CHANNELS = ['sms', 'email', 'webchat', 'slack', 'voice', 'twilio'] as const;
export type Channel = (typeof CHANNELS)[number];

export const CONVERSATION_STATUSES = ['queued', 'offered', 'active', 'on_hold', 'resolved', 'abandoned'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/** Statuses in which a conversation is still open (the contact's current one). */
export const OPEN_STATUSES: readonly ConversationStatus[] = ['queued', 'offered', 'active', 'on_hold'];

/** `timed_out` is set by the inactivity timer only (see `AGENT_RESOLUTIONS`). */
export const RESOLUTIONS = ['handled', 'false_alarm', 'transferred', 'abandoned', 'duplicate', 'referred', 'timed_out'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/** The resolutions an agent may choose when closing a conversation. */
export const AGENT_RESOLUTIONS = ['handled', 'false_alarm', 'transferred', 'abandoned', 'duplicate', 'referred'] as const satisfies readonly Resolution[];

export const ROLES = ['agent', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PRESENCES = ['available', 'busy', 'away', 'dnd', 'offline'] as const;
export type Presence = (typeof PRESENCES)[number];

export const DIRECTIONS = ['inbound', 'outbound', 'system', 'note'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const DELIVERY_STATUSES = ['received', 'queued', 'sent', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export type ActorType = 'system' | 'agent' | 'citizen';

/** True when a role is at least as strong as the required one. */
export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

/**
 * Delivery statuses only move forward: queued → sent → delivered, and
 * failed from queued or sent. A late "delivered" receipt beats "failed" (the
 * citizen got it); nothing moves a message back to sent or queued, so a
 * worker recording "sent" cannot overwrite a receipt that got there first.
 */
export function deliveryAdvances(current: DeliveryStatus, next: DeliveryStatus): boolean {
  if (current === next || current === 'delivered') return false;
  if (current === 'failed') return next === 'delivered';
  const rank: Record<DeliveryStatus, number> = { received: 0, queued: 1, sent: 2, failed: 3, delivered: 3 };
  return rank[next] > rank[current];
}
