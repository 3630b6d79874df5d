/**
 * The agent and supervisor console (`/console`): sign in over HTTP, then
 * everything live over the `/agent` socket. Pushes are hints; on every
 * (re)connect the page re-lists conversations and reloads the open one.
 */
import { io, type Socket } from 'socket.io-client';
import { AGENT_RESOLUTIONS, OPEN_STATUSES, PRESENCES, roleAtLeast, type Presence, type Resolution } from '../domain/types.ts';
import type { AgentClientEvents, AgentServerEvents, AgentView, ConversationView } from '../realtime/events.ts';
import { attachmentLoader } from './console-attachments.ts';
import { conversationPane } from './console-pane.ts';
import { consoleExtras } from './console-extras.ts';
import { consoleSharing } from './console-sharing.ts';
import { compareConversations, conversationRow, RESOLUTION_LABELS, waitingText } from './console-view.ts';
import { byId, clientId, el, isSendKey, statusLine, typingEmitter } from './dom.ts';
import { http } from './http.ts';
import { describeError, requester } from './request.ts';
import { loginForm, SESSION_ENDED } from './session.ts';
import { typingIndicator } from './typing-indicator.ts';

type AgentSocket = Socket<AgentServerEvents, AgentClientEvents>;

const ui = {
  tools: byId('session-tools', HTMLDivElement),
  whoami: byId('whoami', HTMLSpanElement),
  connection: byId('connection', HTMLSpanElement),
  presence: byId('presence', HTMLSelectElement),
  notify: byId('notify-permission', HTMLButtonElement),
  logout: byId('logout', HTMLButtonElement),
  workspace: byId('workspace', HTMLDivElement),
  list: byId('conversation-list', HTMLUListElement),
  count: byId('queue-count', HTMLSpanElement),
  listEmpty: byId('queue-empty', HTMLParagraphElement),
  typing: byId('typing', HTMLParagraphElement),
  replyForm: byId('reply-form', HTMLFormElement),
  reply: byId('reply', HTMLTextAreaElement),
  send: byId('send', HTMLButtonElement),
  accept: byId('accept', HTMLButtonElement),
  call: byId('call', HTMLAnchorElement),
  resolution: byId('resolution', HTMLSelectElement),
  resolve: byId('resolve', HTMLButtonElement),
};
const status = statusLine(byId('status', HTMLParagraphElement));
const login = loginForm(status, (token, me) => startSession(token, me));
const typing = typingIndicator(ui.typing, (who) => `${who.join(', ')} ${who.length > 1 ? 'are' : 'is'} typing…`);
const pane = conversationPane(
  {
    empty: byId('conversation-empty', HTMLParagraphElement),
    pane: byId('conversation-body', HTMLDivElement),
    title: byId('conversation-title', HTMLHeadingElement),
    meta: byId('conversation-meta', HTMLParagraphElement),
    log: byId('message-log', HTMLOListElement),
    ...ui,
  },
  typing,
  attachmentLoader(() => session?.token),
);
const extras = consoleExtras(
  {
    reply: ui.reply,
    canned: byId('canned', HTMLSelectElement),
    smsCounter: byId('sms-counter', HTMLSpanElement),
    location: byId('location', HTMLElement),
    locationCurrent: byId('location-current', HTMLParagraphElement),
    locationHistory: byId('location-history', HTMLOListElement),
    locationForm: byId('location-form', HTMLFormElement),
    locationLat: byId('location-lat', HTMLInputElement),
    locationLon: byId('location-lon', HTMLInputElement),
  },
  () => session?.token,
  (text) => status.error(text),
);

const sharing = consoleSharing(
  {
    participants: byId('participants', HTMLUListElement),
    join: byId('join', HTMLButtonElement),
    leave: byId('leave', HTMLButtonElement),
    takeover: byId('takeover', HTMLButtonElement),
    inviteAgent: byId('invite-agent', HTMLSelectElement),
    invite: byId('invite', HTMLButtonElement),
    transferTarget: byId('transfer-target', HTMLSelectElement),
    transferNote: byId('transfer-note', HTMLInputElement),
    transfer: byId('transfer', HTMLButtonElement),
    noteForm: byId('note-form', HTMLFormElement),
    noteText: byId('note-text', HTMLTextAreaElement),
    addNote: byId('add-note', HTMLButtonElement),
    sendNotice: byId('send-notice', HTMLButtonElement),
    panel: byId('supervisor-panel', HTMLElement),
    agentRows: byId('agent-rows', HTMLTableSectionElement),
    queueRows: byId('queue-rows', HTMLTableSectionElement),
    alerts: byId('alerts', HTMLElement),
    alertList: byId('alert-list', HTMLUListElement),
  },
  {
    session: () => session,
    current: () => pane.current,
    conversations: () => conversations.values(),
    open: (id, join) => openConversation(id, join),
    upsert: (c) => upsertConversation(c),
    status,
  },
);
const isSupervisor = () => session !== undefined && roleAtLeast(session.me.role, 'supervisor');

interface Session {
  token: string;
  me: AgentView;
  socket: AgentSocket;
  ask: ReturnType<typeof requester<AgentClientEvents>>;
}

let session: Session | undefined;
const conversations = new Map<string, ConversationView>();
/** The unsent reply's client id, reused when the same text is sent again after an error. */
let draft: { text: string; clientId: string } | undefined;

// ---- conversation list --------------------------------------------------------

function belongsInList(c: ConversationView): boolean {
  if (!session || !OPEN_STATUSES.includes(c.status)) return false;
  return roleAtLeast(session.me.role, 'supervisor') || c.agentId === session.me.id || sharing.sharedWithMe(c, session.me);
}

function renderList(): void {
  const now = Date.now();
  const sorted = [...conversations.values()].sort(compareConversations);
  ui.list.replaceChildren(...sorted.map((c) => conversationRow(c, c.id === pane.current?.id, now)));
  ui.count.textContent = String(sorted.length);
  ui.listEmpty.hidden = sorted.length > 0;
  sharing.panel();
}

function tick(): void {
  const now = Date.now();
  for (const node of ui.list.querySelectorAll<HTMLElement>('[data-testid="row-waiting"]')) {
    const id = node.closest<HTMLElement>('[data-conversation-id]')?.dataset.conversationId;
    const c = id ? conversations.get(id) : undefined;
    if (c) node.textContent = waitingText(c, now);
  }
}

/** Applies a conversation's new state to the list and, if open, to the pane. */
function upsertConversation(c: ConversationView): void {
  const known = conversations.get(c.id);
  if (known && known.version > c.version) return;
  if (belongsInList(c)) conversations.set(c.id, c);
  else conversations.delete(c.id);
  renderList();
  if (session) pane.update(c, session.me);
  sharing.render();
}

function notifyOffer(c: ConversationView): void {
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  const note = new Notification('Lifeline: new conversation', {
    body: `${c.contact.display} · ${c.channel} · priority ${c.priority}`,
    tag: c.id,
  });
  note.onclick = () => {
    window.focus();
    void openConversation(c.id);
  };
}

// ---- open conversation ----------------------------------------------------------

/** Opens (or, after a reconnect, reloads) a conversation: joins its room and merges its history. */
async function openConversation(id: string, join = false): Promise<void> {
  if (!session) return;
  // An invitation not yet taken up is taken up by opening the conversation.
  const joining = join || sharing.joinOnOpen(conversations.get(id), session.me);
  const reply = await session.ask(joining ? 'conversation:join' : 'conversation:open', { conversationId: id });
  if (!session) return;
  if (!reply.ok) {
    status.error(`Could not open the conversation: ${describeError(reply)}`);
    if (pane.current?.id === id && (reply.error.code === 'not_found' || reply.error.code === 'forbidden')) {
      pane.close();
      extras.clear();
      renderList();
    }
    return;
  }
  if (pane.current?.id !== id) {
    myTyping.stop();
    draft = undefined;
  }
  if (joining) sharing.joined(id);
  pane.show(reply.data.conversation, reply.data.messages, session.me);
  pane.addEvents(reply.data.events);
  sharing.participants({ conversationId: id, participants: reply.data.participants });
  upsertConversation(reply.data.conversation);
  extras.show(reply.data.conversation);
  renderList();
}

// ---- typing -----------------------------------------------------------------

const myTyping = typingEmitter((on) => {
  const c = pane.current;
  if (session && c) session.socket.emit('typing', { conversationId: c.id, typing: on });
});

let relistTimer: ReturnType<typeof setTimeout> | undefined;
/** Re-lists conversations soon, once however many unknown ones show up. */
function relist(): void {
  relistTimer ??= setTimeout(() => {
    relistTimer = undefined;
    void resync();
  }, 300);
}

/** Typing an internal note: colleagues see it, the citizen is not told. */
const noteTyping = typingEmitter((on) => {
  const c = pane.current;
  if (session && c) session.socket.emit('typing', { conversationId: c.id, typing: on, note: true });
});
const noteText = byId('note-text', HTMLTextAreaElement);
noteText.addEventListener('input', () => (noteText.value.trim() ? noteTyping.poke() : noteTyping.stop()));
noteText.addEventListener('blur', () => noteTyping.stop());

// ---- session ------------------------------------------------------------------

function setConnection(state: 'connecting' | 'connected' | 'reconnecting'): void {
  ui.connection.dataset.state = state;
  document.body.dataset.connection = state;
  // Socket requests need the connection; do not offer a control that would fail.
  ui.presence.disabled = state !== 'connected';
  ui.connection.textContent = state === 'connected' ? 'connected' : `${state}…`;
}

function showPresence(presence: Presence): void {
  ui.presence.value = presence;
  ui.presence.dataset.confirmed = presence;
}

async function resync(): Promise<void> {
  if (!session) return;
  const reply = await session.ask('conversation:list', {});
  if (!reply.ok) {
    status.error(`Could not load conversations: ${describeError(reply)}`);
    return;
  }
  conversations.clear();
  for (const c of reply.data) {
    sharing.listed(c, session.me);
    if (belongsInList(c)) conversations.set(c.id, c);
  }
  renderList();
  if (pane.current) await openConversation(pane.current.id);
}

function connect(token: string): AgentSocket {
  const socket: AgentSocket = io('/agent', { auth: { token }, transports: ['websocket'] });
  socket.on('connect', () => {
    setConnection('connected');
    void resync();
    sharing.start();
  });
  socket.on('disconnect', (reason) => {
    setConnection('reconnecting');
    // Socket.IO does not reconnect by itself after a server-side disconnect (as on a gateway restart).
    if (reason === 'io server disconnect') setTimeout(() => session?.socket === socket && socket.connect(), 1000);
  });
  socket.on('connect_error', () => {
    // A refused handshake (expired or revoked session) is not retried by Socket.IO.
    if (!socket.active) void endSession(SESSION_ENDED);
    else setConnection('reconnecting');
  });
  socket.on('conversation:offered', (c) => {
    upsertConversation(c);
    notifyOffer(c);
  });
  socket.on('conversation:updated', (c) => {
    upsertConversation(c);
    if (isSupervisor()) sharing.refresh();
  });
  socket.on('message:new', (m) => {
    pane.add(m);
    // A conversation supervisors have not seen yet (queued, not offered): list it.
    if (isSupervisor() && !conversations.has(m.conversationId)) relist();
  });
  socket.on('conversation:event', (e) => pane.addEvents([e]));
  socket.on('conversation:participants', (u) => sharing.participants(u));
  socket.on('conversation:invited', (i) => sharing.invited(i));
  socket.on('conversation:escalated', (p) => sharing.escalated(p));
  socket.on('message:status', (u) => pane.delivery(u));
  socket.on('typing', (u) => {
    if (session && u.conversationId === pane.current?.id && u.agentId !== session.me.id) typing.set(u.who, u.typing);
  });
  socket.on('location:updated', (u) => extras.locations(u));
  socket.on('link:status', (u) => {
    const text = `${u.channel.toUpperCase()} link ${u.name} is ${u.state === 'up' ? 'up again' : `DOWN${u.lastError ? `: ${u.lastError}` : ''}`}`;
    if (u.state === 'up') status.info(text);
    else status.error(text);
  });
  socket.on('presence:changed', (agent) => {
    sharing.refresh();
    if (session && agent.id === session.me.id) {
      session.me = agent;
      showPresence(agent.presence);
    }
  });
  return socket;
}

function startSession(token: string, me: AgentView): void {
  const socket = connect(token);
  session = { token, me, socket, ask: requester<AgentClientEvents>(socket) };
  void extras.start();
  login.hide();
  ui.workspace.hidden = false;
  ui.tools.hidden = false;
  ui.whoami.textContent = `${me.displayName} (${me.role})`;
  showPresence(me.presence);
  setConnection('connecting');
  ui.notify.hidden = !('Notification' in window) || Notification.permission !== 'default';
  status.clear();
}

async function endSession(message?: string): Promise<void> {
  session?.socket.disconnect();
  session = undefined;
  conversations.clear();
  pane.close();
  extras.clear();
  sharing.clear();
  renderList();
  ui.workspace.hidden = true;
  ui.tools.hidden = true;
  login.signedOut(message);
}

// ---- user actions -----------------------------------------------------------------

ui.logout.addEventListener('click', () => {
  void (async () => {
    if (!session) return;
    const { token, ask } = session;
    // Stop offers to a console nobody is watching before the session goes.
    await ask('presence:set', { presence: 'offline' });
    await http('POST', '/api/auth/logout', token);
    await endSession('Signed out.');
  })();
});

ui.presence.addEventListener('change', () => {
  void (async () => {
    if (!session) return;
    const wanted = ui.presence.value as Presence;
    const reply = await session.ask('presence:set', { presence: wanted });
    if (!session) return;
    if (!reply.ok) {
      showPresence(session.me.presence);
      status.error(`Could not change presence: ${describeError(reply)}`);
      return;
    }
    session.me = reply.data;
    showPresence(reply.data.presence);
    status.info(`Presence: ${reply.data.presence}`);
  })();
});

ui.notify.addEventListener('click', () => {
  void Notification.requestPermission().then((permission) => {
    ui.notify.hidden = permission !== 'default';
    status.info(permission === 'granted' ? 'Notifications enabled.' : 'Notifications were not allowed.');
  });
});

ui.list.addEventListener('click', (event) => {
  const row = (event.target as Element).closest<HTMLElement>('[data-conversation-id]');
  if (row?.dataset.conversationId) void openConversation(row.dataset.conversationId);
});

ui.accept.addEventListener('click', () => {
  void (async () => {
    const c = pane.current;
    if (!session || !c) return;
    ui.accept.disabled = true;
    const reply = await session.ask('conversation:accept', { conversationId: c.id });
    ui.accept.disabled = false;
    if (!reply.ok) {
      status.error(`Could not accept: ${describeError(reply)}`);
      return;
    }
    upsertConversation(reply.data);
    status.clear();
    ui.reply.focus();
  })();
});

ui.resolve.addEventListener('click', () => {
  void (async () => {
    const c = pane.current;
    if (!session || !c) return;
    const resolution = ui.resolution.value as Resolution;
    ui.resolve.disabled = true;
    const reply = await session.ask('conversation:resolve', { conversationId: c.id, resolution });
    if (!reply.ok) {
      ui.resolve.disabled = false;
      status.error(`Could not resolve: ${describeError(reply)}`);
      return;
    }
    upsertConversation(reply.data);
    status.info(`Conversation resolved: ${RESOLUTION_LABELS[resolution]}.`);
  })();
});

async function sendReply(): Promise<void> {
  const c = pane.current;
  if (!session || !c || ui.send.disabled) return;
  const text = ui.reply.value.trim();
  if (!text) return;
  draft = draft?.text === text ? draft : { text, clientId: clientId() };
  const conversationId = c.id;
  myTyping.stop();
  ui.send.disabled = true;
  const reply = await session.ask('message:send', { conversationId, text, clientId: draft.clientId });
  const now = pane.current;
  if (session && now) pane.update(now, session.me);
  if (!reply.ok) {
    status.error(`Reply not sent: ${describeError(reply)}. Press Send to try again.`);
    return;
  }
  draft = undefined;
  if (pane.current?.id === conversationId && ui.reply.value.trim() === text) {
    ui.reply.value = '';
    ui.reply.dispatchEvent(new Event('input')); // the SMS counter follows the box
  }
  pane.add(reply.data);
  status.clear();
}

ui.replyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void sendReply();
});
ui.reply.addEventListener('keydown', (event) => {
  if (!isSendKey(event)) return;
  event.preventDefault();
  void sendReply();
});
ui.reply.addEventListener('input', () => {
  if (ui.reply.value.trim()) myTyping.poke();
  else myTyping.stop();
});
ui.reply.addEventListener('blur', () => myTyping.stop());

// ---- start ----------------------------------------------------------------------

async function boot(): Promise<void> {
  ui.presence.replaceChildren(...PRESENCES.map((p) => el('option', { text: p, attrs: { value: p } })));
  ui.resolution.replaceChildren(...AGENT_RESOLUTIONS.map((r) => el('option', { text: RESOLUTION_LABELS[r], attrs: { value: r } })));
  setInterval(tick, 1000);
  const restored = await login.restore();
  if (restored !== 'signed-in') await endSession(restored === 'expired' ? SESSION_ENDED : undefined);
}

void boot();
