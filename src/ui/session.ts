/**
 * Signing in, shared by the console, the dashboard and the admin page: the
 * login form, the bearer token kept in sessionStorage (one key, so a sign-in
 * on one page carries to the others in the same tab) and its restore on load.
 */
import type { AgentView } from '../realtime/events.ts';
import { byId, type StatusLine } from './dom.ts';
import { http } from './http.ts';

const TOKEN_KEY = 'lifeline.console.token';

/** What restoring a stored sign-in found. */
export type Restored = 'signed-in' | 'expired' | 'none';

export interface LoginForm {
  /** Signs in again with a stored token, if any and still valid (calls `onSignedIn`). */
  restore(): Promise<Restored>;
  /** The form is hidden: someone is signed in. */
  hide(): void;
  /** Forgets the token and shows the form again, with an optional message. */
  signedOut(message?: string): void;
  /** Ends the session on the server, then shows the form. */
  logout(token: string, message?: string): Promise<void>;
}

/**
 * Wires the page's login form (`#login-view`, `#login-form`,
 * `#login-username`, `#login-password`). `onSignedIn` runs after a
 * successful sign-in or restore.
 */
export function loginForm(status: StatusLine, onSignedIn: (token: string, me: AgentView) => void): LoginForm {
  const view = byId('login-view', HTMLElement);
  const form = byId('login-form', HTMLFormElement);
  const username = byId('login-username', HTMLInputElement);
  const password = byId('login-password', HTMLInputElement);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const submit = form.querySelector('button');
      if (submit) submit.disabled = true;
      status.info('Signing in…');
      const res = await http<{ token: string; agent: AgentView }>('POST', '/api/auth/login', undefined, {
        username: username.value.trim(),
        password: password.value,
      });
      if (submit) submit.disabled = false;
      if (!res.ok) {
        status.error(res.status === 401 ? 'Wrong username or password.' : `Could not sign in: ${res.message}`);
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, res.data.token);
      password.value = '';
      onSignedIn(res.data.token, res.data.agent);
    })();
  });

  const signedOut = (message?: string) => {
    sessionStorage.removeItem(TOKEN_KEY);
    view.hidden = false;
    password.value = '';
    username.focus();
    if (message) status.info(message);
  };

  return {
    async restore() {
      const token = sessionStorage.getItem(TOKEN_KEY);
      if (!token) return 'none';
      const me = await http<{ agent: AgentView }>('GET', '/api/auth/me', token);
      if (!me.ok) {
        sessionStorage.removeItem(TOKEN_KEY);
        return 'expired';
      }
      onSignedIn(token, me.data.agent);
      return 'signed-in';
    },
    hide: () => {
      view.hidden = true;
    },
    signedOut,
    async logout(token, message) {
      await http('POST', '/api/auth/logout', token);
      signedOut(message);
    },
  };
}

/** The message shown when a stored sign-in has expired. */
export const SESSION_ENDED = 'Your session has ended; please sign in again.';
