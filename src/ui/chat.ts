/**
 * The citizen's emergency chat (`/chat`). The session token lives in
 * localStorage, so a reload resumes the same conversation; on every
 * (re)connect the page fetches what it missed since the last message it saw.
 * A message shows "sending…" until the server has stored it, and can be
 * retried with the same client id, which the server deduplicates.
 */
import { io, type Socket } from 'socket.io-client';
import type { CitizenClientEvents, CitizenMessageView, CitizenServerEvents } from '../realtime/events.ts';
import { byId, clientId, el, formatTime, isSendKey, statusLine, typingEmitter } from './dom.ts';
import { describeError, requester } from './request.ts';
import { typingIndicator } from './typing-indicator.ts';

type CitizenSocket = Socket<CitizenServerEvents, CitizenClientEvents>;
const TOKEN_KEY = 'lifeline.chat.token';
/** Failures worth retrying by themselves once the connection is back. */
const TRANSIENT = new Set(['offline', 'timeout', 'internal']);

const ui = {
  start: byId('start', HTMLElement),
  startForm: byId('start-form', HTMLFormElement),
  name: byId('name', HTMLInputElement),
  log: byId('log', HTMLOListElement),
  typing: byId('typing', HTMLParagraphElement),
  sendForm: byId('send-form', HTMLFormElement),
  message: byId('message', HTMLTextAreaElement),
  share: byId('share', HTMLElement),
  shareLocation: byId('share-location', HTMLButtonElement),
  photo: byId('photo', HTMLInputElement),
};
const status = statusLine(byId('status', HTMLParagraphElement));
const typing = typingIndicator(ui.typing, () => 'Call-taker is typing…');

/** A message this page sent, from "sending…" to "sent" (or "not sent", with Retry). */
interface Outgoing {
  clientId: string;
  text: string;
  state: 'sending' | 'sent' | 'failed';
  error?: { code: string; text: string };
  item: HTMLLIElement;
}

/** A one-time invitation from a call-taker's text (`/chat?invite=…`): it joins their conversation. */
let invite = new URLSearchParams(window.location.search).get('invite');
// An invitation starts its own session: an earlier chat's token would refuse it.
let token = invite ? null : localStorage.getItem(TOKEN_KEY);
/** Client ids of photos this page sent (their messages have no text to show). */
const photos = new Map<string, HTMLLIElement>();
let starting: Promise<boolean> | undefined;
/** The highest server message id this page has received (push or fetch); own acks do not count, so nothing is skipped. */
let lastSeenId = 0;
const shown = new Map<number, HTMLLIElement>();
const outgoing = new Map<string, Outgoing>();
const read = new Set<number>();
const unread: number[] = [];

const socket: CitizenSocket = io('/citizen', { auth: token ? { token } : {}, transports: ['websocket'] });
const ask = requester<CitizenClientEvents>(socket);

// ---- rendering ---------------------------------------------------------------------

/** Keeps the newest message in view (the composer is sticky, so scroll the page to its end). */
function follow(): void {
  window.scrollTo({ top: document.documentElement.scrollHeight });
}

function bubble(kind: 'inbound' | 'outbound' | 'system', author: string, createdAt: string, body: string): HTMLLIElement {
  return el('li', { class: `msg msg-${kind}`, testid: 'message', attrs: { 'data-direction': kind } }, [
    el('p', { class: 'msg-meta' }, [
      el('span', { class: 'msg-author', text: author, testid: 'message-author' }),
      el('time', { class: 'msg-time', text: formatTime(createdAt), attrs: { datetime: createdAt } }),
    ]),
    el('p', { class: 'msg-body', text: body, testid: 'message-body' }),
  ]);
}

function renderOutgoing(o: Outgoing): void {
  const state = o.item.querySelector<HTMLElement>('[data-testid="send-status"]');
  const retry = o.item.querySelector<HTMLButtonElement>('[data-testid="retry"]');
  if (!state || !retry) return;
  o.item.dataset.state = o.state;
  state.textContent = o.state === 'sending' ? 'sending…' : o.state === 'sent' ? 'sent' : `not sent: ${o.error?.text ?? 'error'}`;
  state.className = `msg-status send-${o.state}`;
  retry.hidden = o.state !== 'failed';
}

function addOutgoing(text: string): Outgoing {
  const item = bubble('inbound', 'You', new Date().toISOString(), text);
  const retry = el('button', { class: 'btn btn-small', text: 'Retry', testid: 'retry', attrs: { type: 'button' } });
  item.append(el('p', { class: 'msg-foot' }, [el('span', { class: 'msg-status', testid: 'send-status' }), retry]));
  const o: Outgoing = { clientId: clientId(), text, state: 'sending', item };
  retry.addEventListener('click', () => void deliver(o));
  outgoing.set(o.clientId, o);
  ui.log.append(item);
  renderOutgoing(o);
  follow();
  return o;
}

function markRead(id: number): void {
  if (read.has(id)) return;
  if (document.visibilityState !== 'visible' || !socket.connected) {
    if (!unread.includes(id)) unread.push(id);
    return;
  }
  read.add(id);
  socket.emit('message:read', { id });
}

function flushUnread(): void {
  for (const id of unread.splice(0)) markRead(id);
}

/** Shows a stored message once, whether it came by push or by fetch. */
function addServerMessage(m: CitizenMessageView): void {
  lastSeenId = Math.max(lastSeenId, m.id);
  const photo = m.direction === 'inbound' && m.clientMessageId ? photos.get(m.clientMessageId) : undefined;
  if (photo) {
    shown.set(m.id, photo);
    return;
  }
  if (m.direction === 'inbound' && m.clientMessageId) {
    const mine = outgoing.get(m.clientMessageId);
    if (mine) {
      // Stored after all, even if the ack was lost.
      mine.state = 'sent';
      renderOutgoing(mine);
      shown.set(m.id, mine.item);
      return;
    }
  }
  if (shown.has(m.id)) return;
  const author = m.direction === 'inbound' ? 'You' : m.direction === 'system' ? 'Notice' : m.authorName ? `${m.authorName}, call-taker` : 'Call-taker';
  // A photo sent from an earlier page has no text: say what it was rather than show an empty bubble.
  const text = m.body === '' && m.direction === 'inbound' ? 'Photo sent' : m.body;
  const item = bubble(m.direction, author, m.createdAt, text);
  item.dataset.messageId = String(m.id);
  if (m.direction === 'inbound') {
    item.dataset.state = 'sent';
    item.append(el('p', { class: 'msg-foot' }, [el('span', { class: 'msg-status send-sent', text: 'sent', testid: 'send-status' })]));
  }
  shown.set(m.id, item);
  ui.log.append(item);
  if (m.direction !== 'inbound') {
    typing.reset();
    markRead(m.id);
  }
  follow();
}

function sessionStarted(): void {
  ui.start.hidden = true;
  ui.share.hidden = false;
}

/** Redeems the invitation once, on the first connection; afterwards the page is an ordinary resumed session. */
async function redeemInvite(): Promise<void> {
  if (!invite) return;
  const reply = await ask('invite:redeem', { invite });
  if (!reply.ok) {
    if (reply.error.code === 'offline' || reply.error.code === 'timeout') return;
    invite = null;
    status.error(`${describeError(reply)}. If you can, call 911.`);
    return;
  }
  invite = null;
  token = reply.data.token;
  localStorage.setItem(TOKEN_KEY, token);
  socket.auth = { token };
  // The link is one-time: keep it out of the address bar and history.
  window.history.replaceState(null, '', '/chat');
  sessionStarted();
  status.info('You are connected to the 911 call-taker who texted you.');
}

// ---- server ------------------------------------------------------------------------

function ensureSession(): Promise<boolean> {
  if (token) return Promise.resolve(true);
  starting ??= (async () => {
    const name = ui.name.value.trim();
    const reply = await ask('session:start', name ? { name } : {});
    starting = undefined;
    if (!reply.ok) {
      status.error(`Could not start the chat: ${describeError(reply)}. If you can, call 911.`);
      return false;
    }
    token = reply.data.token;
    localStorage.setItem(TOKEN_KEY, token);
    // Reconnections must resume this session, not open an anonymous one.
    socket.auth = { token };
    sessionStarted();
    return true;
  })();
  return starting;
}

async function deliver(o: Outgoing): Promise<void> {
  o.state = 'sending';
  renderOutgoing(o);
  const ready = await ensureSession();
  const reply = ready
    ? await ask('message:send', { clientId: o.clientId, text: o.text })
    : ({ ok: false, error: { code: socket.connected ? 'internal' : 'offline', message: 'the chat could not start' } } as const);
  // A fetch during the wait may already have confirmed it.
  if ((o.state as Outgoing['state']) === 'sent') return;
  if (reply.ok) {
    o.state = 'sent';
    o.error = undefined;
    shown.set(reply.data.id, o.item);
  } else {
    o.state = 'failed';
    o.error = { code: reply.error.code, text: reply.error.code === 'offline' ? 'no connection; it will be sent when the connection is back' : describeError(reply) };
  }
  renderOutgoing(o);
}

async function catchUp(): Promise<void> {
  if (token) {
    const reply = await ask('messages:since', { afterId: lastSeenId });
    if (!reply.ok) {
      status.error(`Could not load the conversation: ${describeError(reply)}`);
      return;
    }
    for (const m of reply.data) addServerMessage(m);
  }
  for (const o of outgoing.values()) {
    if (o.state === 'failed' && o.error && TRANSIENT.has(o.error.code)) void deliver(o);
  }
}

socket.on('connect', () => {
  document.body.dataset.connection = 'connected';
  status.clear();
  flushUnread();
  void redeemInvite().then(catchUp);
});
socket.on('disconnect', (reason) => {
  document.body.dataset.connection = 'reconnecting';
  // Socket.IO does not reconnect by itself after a server-side disconnect (as on a gateway restart).
  if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1000);
  status.error('Connection lost. Reconnecting… Your messages will be sent when the connection is back. If you can, call 911.');
});
socket.on('connect_error', () => {
  if (socket.active) status.error('Cannot reach the emergency chat. Retrying… If you can, call 911.');
  else status.error('The emergency chat is not available. Please call 911 if you can.');
});
socket.on('message:new', (m) => addServerMessage(m));
socket.on('typing', (u) => typing.set('call-taker', u.typing));

// ---- user actions ----------------------------------------------------------------

const myTyping = typingEmitter((on) => {
  if (token && socket.connected) socket.emit('typing', { typing: on });
});

function sendFromBox(): void {
  const text = ui.message.value.trim();
  if (!text) {
    ui.message.focus();
    return;
  }
  ui.message.value = '';
  myTyping.stop();
  void deliver(addOutgoing(text));
  ui.message.focus();
}

ui.startForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void ensureSession().then((ok) => {
    if (!ok) return;
    status.info('Chat started. Write your message below.');
    ui.message.focus();
  });
});
ui.sendForm.addEventListener('submit', (event) => {
  event.preventDefault();
  sendFromBox();
});
ui.message.addEventListener('keydown', (event) => {
  if (!isSendKey(event)) return;
  event.preventDefault();
  sendFromBox();
});
ui.message.addEventListener('input', () => {
  if (ui.message.value.trim()) myTyping.poke();
  else myTyping.stop();
});
ui.message.addEventListener('blur', () => myTyping.stop());
document.addEventListener('visibilitychange', flushUnread);

// ---- sharing, only when the citizen presses a button ---------------------------------

const MAX_PHOTO_BYTES = 900_000;

ui.shareLocation.addEventListener('click', () => {
  if (!('geolocation' in navigator)) {
    status.error('This browser cannot share a location. Tell the call-taker where you are.');
    return;
  }
  ui.shareLocation.disabled = true;
  status.info('Finding your location…');
  navigator.geolocation.getCurrentPosition(
    (position) => {
      void ask('location:share', {
        latitude: position.coords.latitude,
        longitude: position.coords.longitude,
        accuracy: position.coords.accuracy,
        at: new Date(position.timestamp).toISOString(),
      }).then((reply) => {
        ui.shareLocation.disabled = false;
        if (reply.ok) status.info('Your location was sent to the call-taker.');
        else status.error(`Your location was not sent: ${describeError(reply)}`);
      });
    },
    (err) => {
      ui.shareLocation.disabled = false;
      status.error(`Your location could not be found (${err.message || 'not allowed'}). Tell the call-taker where you are.`);
    },
    { enableHighAccuracy: true, timeout: 20_000, maximumAge: 30_000 },
  );
});

/** A photo small enough for the chat: as it is, or scaled down to a JPEG. */
async function fitPhoto(file: File): Promise<{ name: string; type: string; data: ArrayBuffer }> {
  if (file.size <= MAX_PHOTO_BYTES) return { name: file.name, type: file.type, data: await file.arrayBuffer() };
  const bitmap = await createImageBitmap(file);
  for (const side of [1600, 1200, 800]) {
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.8));
    if (blob && blob.size <= MAX_PHOTO_BYTES) return { name: file.name.replace(/\.[^.]*$/, '') + '.jpg', type: 'image/jpeg', data: await blob.arrayBuffer() };
  }
  throw new Error('the photo is too large');
}

ui.photo.addEventListener('change', () => {
  const file = ui.photo.files?.[0];
  ui.photo.value = '';
  if (!file) return;
  void (async () => {
    const id = clientId();
    const item = bubble('inbound', 'You', new Date().toISOString(), `Photo: ${file.name}`);
    photos.set(id, item);
    const state = el('span', { class: 'msg-status', text: 'sending…', testid: 'send-status' });
    item.append(el('p', { class: 'msg-foot' }, [state]));
    ui.log.append(item);
    follow();
    try {
      const photo = await fitPhoto(file);
      if (!(await ensureSession())) throw new Error('the chat could not start');
      const reply = await ask('photo:send', { clientId: id, name: photo.name, contentType: photo.type, data: photo.data });
      state.textContent = reply.ok ? 'sent' : `not sent: ${describeError(reply)}`;
      if (reply.ok) shown.set(reply.data.id, item);
    } catch (err) {
      state.textContent = `not sent: ${err instanceof Error ? err.message : 'error'}`;
    }
  })();
});

if (token) sessionStarted();
