/**
 * The console's open conversation: its header and controls, and its message
 * log (deduplicated by message id, kept in id order, delivery status live,
 * attachments loaded as messages appear and released when the view is cleared).
 */
import { OPEN_STATUSES, roleAtLeast, type DeliveryStatus } from '../domain/types.ts';
import type { AgentView, ConversationEventView, ConversationView, MessageView } from '../realtime/events.ts';
import { eventItem } from './console-sharing.ts';
import type { AttachmentLoader } from './console-attachments.ts';
import { conversationMeta, messageItem, setDelivery, statusLabel, telHref } from './console-view.ts';
import type { TypingIndicator } from './typing-indicator.ts';

export interface PaneElements {
  empty: HTMLElement;
  pane: HTMLElement;
  title: HTMLElement;
  meta: HTMLElement;
  accept: HTMLButtonElement;
  /** Click-to-call the citizen (a tel: link), shown for phone contacts. */
  call: HTMLAnchorElement;
  resolution: HTMLSelectElement;
  resolve: HTMLButtonElement;
  log: HTMLOListElement;
  reply: HTMLTextAreaElement;
  send: HTMLButtonElement;
}

export interface ConversationPane {
  /** The conversation shown, if any. */
  readonly current: ConversationView | undefined;
  /** Shows a conversation with its history; showing the same one again merges (after a reconnect). */
  show(conversation: ConversationView, messages: MessageView[], me: AgentView): void;
  /** Applies a newer state of the shown conversation (ignored for others or older versions). */
  update(conversation: ConversationView, me: AgentView): void;
  /** Adds a message of the shown conversation once, in id order. */
  add(message: MessageView): void;
  /** Adds entries of the shown conversation's log of events once, in time order. */
  addEvents(events: ConversationEventView[]): void;
  /** Updates an outbound message's delivery status. */
  delivery(update: { id: number; status: DeliveryStatus; error: string | null }): void;
  close(): void;
}

export function conversationPane(ui: PaneElements, typing: TypingIndicator, attachments: AttachmentLoader): ConversationPane {
  let current: ConversationView | undefined;
  const items = new Map<number, HTMLLIElement>();
  /** System entries (joined, transferred, ...) by event id, placed by time among the messages. */
  const events = new Map<number, HTMLLIElement>();
  const addEvent = (e: ConversationEventView) => {
    if (!current || e.conversationId !== current.id || events.has(e.id)) return;
    const follow = nearBottom();
    const item = eventItem(e);
    const at = Date.parse(e.at);
    let next: Element | null = null;
    for (const node of ui.log.children) {
      const time = node.querySelector('time')?.getAttribute('datetime');
      if (time && Date.parse(time) > at) {
        next = node;
        break;
      }
    }
    ui.log.insertBefore(item, next);
    events.set(e.id, item);
    if (follow) ui.log.scrollTop = ui.log.scrollHeight;
  };

  const renderHead = (me: AgentView) => {
    if (!current) return;
    const c = current;
    const mine = c.agentId === me.id;
    const canReply =
      (c.status === 'active' || c.status === 'on_hold') && (mine || c.participantIds.includes(me.id) || roleAtLeast(me.role, 'supervisor'));
    ui.title.textContent = c.contact.display;
    ui.meta.textContent = conversationMeta(c);
    ui.pane.dataset.status = c.status;
    const tel = telHref(c);
    ui.call.hidden = tel === undefined;
    if (tel) {
      ui.call.href = tel;
      ui.call.textContent = `Call ${c.contact.phone ?? ''}`;
    } else {
      ui.call.removeAttribute('href');
    }
    ui.accept.hidden = !(c.status === 'offered' && mine);
    ui.resolve.disabled = ui.resolution.disabled = !OPEN_STATUSES.includes(c.status);
    ui.reply.disabled = ui.send.disabled = !canReply;
    ui.reply.placeholder = canReply
      ? 'Reply to the caller (Enter sends, Shift+Enter for a new line)'
      : c.status === 'offered'
        ? 'Accept the conversation to reply'
        : `This conversation is ${statusLabel(c.status)}`;
  };

  const nearBottom = () => ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
  // Whether the reader was following the end before a photo appeared and made the log taller.
  let following = true;
  ui.log.addEventListener('scroll', () => {
    following = nearBottom();
  }, { passive: true });
  const photoShown = () => {
    if (following) ui.log.scrollTop = ui.log.scrollHeight;
  };

  const clearLog = () => {
    items.clear();
    events.clear();
    attachments.clear();
    ui.log.replaceChildren();
    following = true;
  };

  const add = (m: MessageView) => {
    if (!current || m.conversationId !== current.id) return;
    const known = items.get(m.id);
    if (known) {
      setDelivery(known, m.deliveryStatus, m.deliveryError);
      return;
    }
    const follow = nearBottom() || m.direction === 'outbound';
    const item = messageItem(m, current.contact.display);
    let next: HTMLLIElement | null = null;
    for (const [id, node] of items) if (id > m.id && (!next || id < Number(next.dataset.messageId))) next = node;
    ui.log.insertBefore(item, next);
    items.set(m.id, item);
    attachments.fill(item, m.attachments, photoShown);
    if (m.direction === 'inbound') typing.clear('citizen');
    if (follow) ui.log.scrollTop = ui.log.scrollHeight;
  };

  return {
    get current() {
      return current;
    },
    show(conversation, messages, me) {
      if (current?.id !== conversation.id) {
        clearLog();
        ui.reply.value = '';
        ui.reply.dispatchEvent(new Event('input'));
        typing.reset();
      }
      current = conversation;
      ui.pane.hidden = false;
      ui.empty.hidden = true;
      for (const m of messages) add(m);
      ui.log.scrollTop = ui.log.scrollHeight;
      renderHead(me);
    },
    update(conversation, me) {
      if (!current || current.id !== conversation.id || current.version > conversation.version) return;
      current = conversation;
      renderHead(me);
    },
    add,
    addEvents(list) {
      for (const e of list) addEvent(e);
    },
    delivery(u) {
      const item = items.get(u.id);
      if (item) setDelivery(item, u.status, u.error);
    },
    close() {
      current = undefined;
      clearLog();
      ui.pane.hidden = true;
      ui.empty.hidden = false;
      typing.reset();
    },
  };
}
