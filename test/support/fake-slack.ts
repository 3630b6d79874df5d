/**
 * A stand-in for Slack's Web API on a free loopback port, reached through the
 * library's own `slackApiUrl` option (a link's `settings.apiUrl`). It checks
 * the bot token like Slack (a wrong one gets `invalid_auth`), answers
 * auth.test, users.info and chat.postMessage, serves files that need the
 * token, and records every call so tests can assert on what Slack received.
 * Tests script failures (`respond`) to see how the gateway takes them.
 */
import { EventEmitter } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nextEvent } from './wait.ts';

/** One Web API call as the fake received it. */
export interface SlackApiCall {
  method: string;
  headers: IncomingHttpHeaders;
  /** The call's arguments (the client posts them form-encoded). */
  params: Record<string, string>;
  at: number;
}

/** An answer to script instead of the default one. */
export interface FakeSlackReply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FakeSlack {
  /** Base URL of the Web API, for `settings.apiUrl`. */
  readonly apiUrl: string;
  readonly origin: string;
  readonly calls: SlackApiCall[];
  /** File downloads, with the headers they came with. */
  readonly fileRequests: Array<{ path: string; headers: IncomingHttpHeaders }>;
  /** Answers the next `times` calls of `method` that match with `reply`. */
  respond(method: string, match: (call: SlackApiCall) => boolean, reply: FakeSlackReply, times?: number): void;
  /** Serves `content` at a URL needing the bot token; returns the URL. */
  addFile(name: string, content: Buffer, contentType: string): string;
  /** Names users.info gives. */
  setUser(id: string, realName: string): void;
  /** Delays users.info for this user (a slow Slack). */
  delayUser(id: string, ms: number): void;
  /** The first recorded (or next) call of `method` that matches. */
  waitForCall(method: string, match?: (call: SlackApiCall) => boolean, timeoutMs?: number): Promise<SlackApiCall>;
  stop(): Promise<void>;
}

export const FAKE_TEAM_ID = 'T0FAKETEAM';
export const FAKE_BOT_USER_ID = 'U0LIFELINE';

export async function startFakeSlack(botToken: string): Promise<FakeSlack> {
  const calls: SlackApiCall[] = [];
  const fileRequests: FakeSlack['fileRequests'] = [];
  const scripted: Array<{ method: string; match: (call: SlackApiCall) => boolean; reply: FakeSlackReply; times: number }> = [];
  const files = new Map<string, { content: Buffer; contentType: string }>();
  const users = new Map<string, string>();
  const delays = new Map<string, number>();
  const events = new EventEmitter();
  let seq = 0;

  const defaultReply = (call: SlackApiCall): unknown => {
    switch (call.method) {
      case 'auth.test':
        return { ok: true, url: 'https://psap.slack.test/', team: 'PSAP', team_id: FAKE_TEAM_ID, user: 'lifeline', user_id: FAKE_BOT_USER_ID, bot_id: 'B0LIFELINE' };
      case 'chat.postMessage': {
        seq += 1;
        const ts = `${Math.floor(Date.now() / 1000)}.${String(seq).padStart(6, '0')}`;
        return { ok: true, channel: call.params.channel, ts, message: { type: 'message', text: call.params.text, user: FAKE_BOT_USER_ID, bot_id: 'B0LIFELINE', ts, thread_ts: call.params.thread_ts } };
      }
      case 'users.info': {
        const name = users.get(call.params.user ?? '');
        return name ? { ok: true, user: { id: call.params.user, name: name.toLowerCase(), real_name: name, profile: { display_name: name } } } : { ok: false, error: 'user_not_found' };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const authorized = req.headers.authorization === `Bearer ${botToken}`;
      if (req.method === 'GET' && url.pathname.startsWith('/files/')) {
        fileRequests.push({ path: url.pathname, headers: req.headers });
        const file = files.get(url.pathname);
        if (!authorized) {
          // Slack sends a browser to sign in.
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html>sign in</html>');
          return;
        }
        if (!file) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.content.length) }).end(file.content);
        return;
      }
      const method = url.pathname.replace(/^\/api\//, '');
      const raw = Buffer.concat(chunks).toString('utf8');
      const params = (req.headers['content-type'] ?? '').includes('json')
        ? (JSON.parse(raw || '{}') as Record<string, string>)
        : Object.fromEntries(new URLSearchParams(raw));
      const call: SlackApiCall = { method, headers: req.headers, params, at: Date.now() };
      calls.push(call);
      events.emit('call', call);
      const answer = (reply: FakeSlackReply) =>
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json; charset=utf-8', ...reply.headers }).end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      const script = scripted.find((s) => s.method === method && s.match(call));
      if (script) {
        script.times -= 1;
        if (script.times <= 0) scripted.splice(scripted.indexOf(script), 1);
        answer(script.reply);
        return;
      }
      if (!authorized) {
        answer({ body: { ok: false, error: req.headers.authorization ? 'invalid_auth' : 'not_authed' } });
        return;
      }
      const delay = method === 'users.info' ? (delays.get(params.user ?? '') ?? 0) : 0;
      const timer = setTimeout(() => answer({ body: defaultReply(call) }), delay);
      res.on('close', () => clearTimeout(timer));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: `${origin}/api/`,
    origin,
    calls,
    fileRequests,
    respond(method, match, reply, times = 1) {
      scripted.push({ method, match, reply, times });
    },
    addFile(name, content, contentType) {
      files.set(`/files/${name}`, { content, contentType });
      return `${origin}/files/${name}`;
    },
    setUser(id, realName) {
      users.set(id, realName);
    },
    delayUser(id, ms) {
      delays.set(id, ms);
    },
    async waitForCall(method, match = () => true, timeoutMs = 10_000) {
      const seen = calls.find((c) => c.method === method && match(c));
      if (seen) return seen;
      return nextEvent<SlackApiCall>(events, 'call', (c) => c.method === method && match(c), timeoutMs);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
