/**
 * The frame of the supervisor and administrator pages (`/dashboard`,
 * `/admin`): sign in with the console's login form, check the role, keep the
 * `/agent` socket (pushes are hints: the page reloads what it shows on every
 * connect), show who is signed in and the connection, log out.
 */
import { io, type Socket } from 'socket.io-client';
import { roleAtLeast, type Role } from '../domain/types.ts';
import type { AgentClientEvents, AgentServerEvents, AgentView } from '../realtime/events.ts';
import { byId, statusLine, type StatusLine } from './dom.ts';
import { requester } from './request.ts';
import { loginForm, SESSION_ENDED } from './session.ts';

export type AgentSocket = Socket<AgentServerEvents, AgentClientEvents>;

/** A signed-in staff member on one of these pages. */
export interface StaffSession {
  token: string;
  me: AgentView;
  socket: AgentSocket;
  ask: ReturnType<typeof requester<AgentClientEvents>>;
}

export interface StaffPageOptions {
  /** The least role that may use the page. */
  role: Role;
  /** The page's name in messages ("dashboard"). */
  name: string;
  /** Signed in with the role: subscribe to pushes, show the page. */
  start(session: StaffSession): void;
  /** The socket (re)connected: reload what the page shows. */
  connected(session: StaffSession): void;
  /** Signed out or the session ended: forget everything shown. */
  stop(): void;
}

/** Wires the page frame; returns the status line for the page's own messages. */
export function staffPage(options: StaffPageOptions): StatusLine {
  const status = statusLine(byId('status', HTMLParagraphElement));
  const tools = byId('session-tools', HTMLDivElement);
  const whoami = byId('whoami', HTMLSpanElement);
  const connection = byId('connection', HTMLSpanElement);
  const logout = byId('logout', HTMLButtonElement);
  const content = byId('content', HTMLElement);
  let session: StaffSession | undefined;

  const setConnection = (state: 'connecting' | 'connected' | 'reconnecting') => {
    connection.dataset.state = state;
    document.body.dataset.connection = state;
    connection.textContent = state === 'connected' ? 'connected' : `${state}…`;
  };

  const end = (message?: string) => {
    session?.socket.disconnect();
    session = undefined;
    options.stop();
    content.hidden = true;
    tools.hidden = true;
    login.signedOut(message);
  };

  const start = (token: string, me: AgentView) => {
    login.hide();
    tools.hidden = false;
    whoami.textContent = `${me.displayName} (${me.role})`;
    status.clear();
    if (!roleAtLeast(me.role, options.role)) {
      connection.hidden = true;
      status.error(`The ${options.name} is for ${options.role}s; you are signed in as ${me.role}.`);
      session = { token, me, socket: io('/agent', { autoConnect: false }), ask: () => Promise.reject(new Error('no socket')) };
      return;
    }
    connection.hidden = false;
    const socket: AgentSocket = io('/agent', { auth: { token }, transports: ['websocket'] });
    const current: StaffSession = { token, me, socket, ask: requester<AgentClientEvents>(socket) };
    session = current;
    setConnection('connecting');
    socket.on('connect', () => {
      setConnection('connected');
      options.connected(current);
    });
    socket.on('disconnect', (reason) => {
      setConnection('reconnecting');
      // Socket.IO does not reconnect by itself after a server-side disconnect (as on a gateway restart).
      if (reason === 'io server disconnect') setTimeout(() => session === current && socket.connect(), 1000);
    });
    socket.on('connect_error', () => {
      // A refused handshake (expired or revoked session) is not retried by Socket.IO.
      if (!socket.active) end(SESSION_ENDED);
      else setConnection('reconnecting');
    });
    content.hidden = false;
    options.start(current);
  };

  const login = loginForm(status, start);

  logout.addEventListener('click', () => {
    const token = session?.token;
    if (!token) return;
    end();
    void login.logout(token, 'Signed out.');
  });

  void login.restore().then((restored) => {
    if (restored !== 'signed-in') end(restored === 'expired' ? SESSION_ENDED : undefined);
  });
  return status;
}
