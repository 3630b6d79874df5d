/**
 * Rendering for the console: conversation rows and message bubbles. Pure
 * functions from views to elements; all data goes in as text.
 */
import type { AttachmentView, ConversationView, MessageView } from '../realtime/events.ts';
import { inlineImageType } from '../domain/attachments.ts';
import type { DeliveryStatus, Resolution } from '../domain/types.ts';
import { el, formatDuration, formatSize, formatTime } from './dom.ts';

/** The console's order: highest priority first, then longest waiting. */
export function compareConversations(a: ConversationView, b: ConversationView): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return Date.parse(a.queuedAt) - Date.parse(b.queuedAt);
}

const CHANNEL_LABELS: Record<ConversationView['channel'], string> = {
  sms: 'SMS',
  email: 'E-mail',
  webchat: 'Web chat',
  slack: 'Slack',
  voice: 'Voice',
  twilio: 'SMS/voice',
};

export const channelLabel = (c: ConversationView): string => CHANNEL_LABELS[c.channel];
export const statusLabel = (status: ConversationView['status']): string => status.replace('_', ' ');

export const RESOLUTION_LABELS: Record<Resolution, string> = {
  handled: 'Handled',
  false_alarm: 'False alarm',
  transferred: 'Transferred',
  abandoned: 'Abandoned',
  duplicate: 'Duplicate',
  referred: 'Referred',
  timed_out: 'Closed for inactivity',
};

/** "waiting 0:42" while queued or offered, "active 3:10" once someone accepted it. */
export function waitingText(c: ConversationView, now: number): string {
  if (c.status === 'queued' || c.status === 'offered') return `waiting ${formatDuration(now - Date.parse(c.queuedAt))}`;
  const since = Date.parse(c.acceptedAt ?? c.queuedAt);
  return `${statusLabel(c.status)} ${formatDuration(now - since)}`;
}

/** The tel: URL that calls a conversation's citizen, when they have a number to call (a withheld caller has none). */
export function telHref(c: ConversationView): string | undefined {
  const phone = c.contact.phone;
  return phone && /^\+?[0-9]{3,15}$/.test(phone) ? `tel:${phone}` : undefined;
}

export const CALLBACK_LABEL = 'Missed call — call back';

/**
 * One row of the conversation list: a button that opens the conversation. A
 * call-back task (a call hung up before anyone answered) says so, with a
 * click-to-call link beside the button.
 */
export function conversationRow(c: ConversationView, selected: boolean, now: number): HTMLLIElement {
  const urgent = c.priority >= 90;
  const callback = c.callbackRequestedAt !== null;
  const button = el('button', {
    class: `conversation-row status-${c.status}${urgent ? ' urgent' : ''}${callback ? ' callback' : ''}`,
    testid: 'conversation-row',
    attrs: { type: 'button', 'data-conversation-id': c.id, 'data-status': c.status, ...(selected ? { 'aria-current': 'true' } : {}) },
  }, [
    el('span', { class: 'row-top' }, [
      el('span', { class: 'row-contact', text: c.contact.display, testid: 'row-contact' }),
      el('span', { class: 'row-priority', text: `P${c.priority}`, testid: 'row-priority', attrs: { title: 'priority' } }),
    ]),
    ...(callback ? [el('span', { class: 'badge badge-callback', text: CALLBACK_LABEL, testid: 'row-callback' })] : []),
    el('span', { class: 'row-bottom' }, [
      el('span', { class: 'badge', text: channelLabel(c), testid: 'row-channel' }),
      el('span', { class: `badge badge-${c.status}`, text: statusLabel(c.status), testid: 'row-status' }),
      el('span', { class: 'row-waiting', text: waitingText(c, now), testid: 'row-waiting' }),
    ]),
  ]);
  const tel = callback ? telHref(c) : undefined;
  const call = tel ? [el('a', { class: 'row-call', text: `Call back ${c.contact.phone ?? ''}`, testid: 'row-call', attrs: { href: tel } })] : [];
  return el('li', {}, [button, ...call]);
}

/** The line under the conversation title. */
export function conversationMeta(c: ConversationView): string {
  const parts = [channelLabel(c), statusLabel(c.status), `priority ${c.priority}`, `opened ${formatTime(c.openedAt)}`];
  if (c.callbackRequestedAt) parts.unshift(CALLBACK_LABEL);
  if (c.resolution) parts.push(`resolution: ${RESOLUTION_LABELS[c.resolution]}`);
  if (c.confidential) parts.push('confidential');
  return parts.join(' · ');
}

const DELIVERY_LABELS: Record<DeliveryStatus, string> = {
  received: 'received',
  queued: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  failed: 'failed',
};

function authorOf(m: MessageView, contact: string): string {
  switch (m.direction) {
    case 'inbound':
      return contact;
    case 'outbound':
      return m.authorName ?? 'Call-taker';
    case 'note':
      // A note nobody wrote is the gateway's own log (a call's outcome, its recording).
      return m.authorName ? `${m.authorName} (internal note)` : 'Call log (internal note)';
    case 'system':
      return 'System';
  }
}

/** Text of an outbound message's delivery status. */
export function deliveryText(status: DeliveryStatus, error: string | null): string {
  return status === 'failed' && error ? `failed: ${error}` : DELIVERY_LABELS[status];
}

/** How the console offers an attachment: a photo shown inline, a file to download, or (content not kept) its description. */
export type AttachmentKind = 'photo' | 'file' | 'unavailable';

export function attachmentKind(a: AttachmentView): AttachmentKind {
  if (!a.url) return 'unavailable';
  return inlineImageType(a.contentType) ? 'photo' : 'file';
}

/**
 * One attachment of a message, as a placeholder the pane's attachment loader
 * fills: a photo says it is loading until its content arrives; a file gets a
 * download button.
 */
export function attachmentItem(a: AttachmentView, index: number): HTMLLIElement {
  const kind = attachmentKind(a);
  const size = formatSize(a.size);
  const children =
    kind === 'photo'
      ? [
          el('p', { class: 'attachment-state', text: `Loading ${a.name}…`, testid: 'attachment-state' }),
          el('p', { class: 'attachment-caption', text: `${a.name} · ${size}`, testid: 'attachment-caption' }),
        ]
      : kind === 'file'
        ? [
            el('button', { class: 'btn btn-small', text: `Download ${a.name}`, testid: 'attachment-download', attrs: { type: 'button' } }),
            el('span', { class: 'attachment-caption', text: `${a.contentType} · ${size}`, testid: 'attachment-caption' }),
          ]
        : [el('span', { class: 'attachment-caption', text: `${a.name} (${a.contentType} · ${size}) was not kept`, testid: 'attachment-caption' })];
  return el('li', { class: `msg-attachment attachment-${kind}`, testid: 'attachment', attrs: { 'data-kind': kind, 'data-index': String(index) } }, children);
}

/** One message bubble; outbound ones carry a delivery status that `message:status` updates. */
export function messageItem(m: MessageView, contact: string): HTMLLIElement {
  const meta = el('p', { class: 'msg-meta' }, [
    el('span', { class: 'msg-author', text: authorOf(m, contact), testid: 'message-author' }),
    el('time', { class: 'msg-time', text: formatTime(m.createdAt), attrs: { datetime: m.createdAt } }),
  ]);
  if (m.direction === 'outbound') {
    meta.append(
      el('span', {
        class: `msg-status delivery-${m.deliveryStatus}`,
        text: deliveryText(m.deliveryStatus, m.deliveryError),
        testid: 'delivery-status',
      }),
    );
  }
  const children: Node[] = [meta, el('p', { class: 'msg-body', text: m.body, testid: 'message-body' })];
  if (m.attachments.length > 0) {
    children.push(el('ul', { class: 'msg-attachments', attrs: { 'aria-label': 'Attachments' } }, m.attachments.map(attachmentItem)));
  }
  return el('li', {
    class: `msg msg-${m.direction}`,
    testid: 'message',
    attrs: { 'data-message-id': String(m.id), 'data-direction': m.direction },
  }, children);
}

/** Updates the status text of a rendered outbound message. */
export function setDelivery(item: Element, status: DeliveryStatus, error: string | null): void {
  const node = item.querySelector<HTMLElement>('[data-testid="delivery-status"]');
  if (!node) return;
  node.textContent = deliveryText(status, error);
  node.className = `msg-status delivery-${status}`;
}
