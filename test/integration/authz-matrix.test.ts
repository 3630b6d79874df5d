/**
 * The authorization matrix: every operation of the API document (so a new
 * route is covered as soon as it is documented, and openapi.test.ts makes
 * sure every served route is) called as anonymous, agent, supervisor and
 * admin; every page and its assets; every agent socket event. An agent who
 * is not in a real conversation can neither read nor act on it, by HTTP or
 * by socket.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import type { Auth } from '../../src/auth/sessions.ts';
import type { ConsoleService } from '../../src/console/service.ts';
import { AGENT_RESOLUTIONS } from '../../src/domain/types.ts';
import { attachAgentNamespace } from '../../src/realtime/agent-namespace.ts';
import type { AgentClientEvents, AgentNamespace, ConversationView, Reply } from '../../src/realtime/events.ts';
import { mountPages } from '../../src/ui/pages.ts';
import {
  ADMIN_PASSWORD,
  api,
  connectAgent,
  connectCitizen,
  createAgents,
  login,
  request,
  startTestGateway,
  type AgentSocket,
  type CitizenSocket,
  type TestGateway,
} from '../support/gateway.ts';
import { nextEvent } from '../support/wait.ts';

type Caller = 'anonymous' | 'agent' | 'supervisor' | 'admin';
const CALLERS: Caller[] = ['anonymous', 'agent', 'supervisor', 'admin'];
const RANK: Record<string, number> = { agent: 1, supervisor: 2, admin: 3 };

type JsonSchema = {
  type?: string | string[];
  format?: string;
  pattern?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
};
interface Operation {
  method: string;
  path: string;
  access: string;
  params: Array<{ name: string; in: string; schema: JsonSchema }>;
  body?: { type: string; schema: JsonSchema };
}
type Doc = { paths: Record<string, Record<string, Record<string, unknown>>> };

/** The operations of the served document, with what the matrix needs of each. */
function operationsOf(doc: Doc): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => {
      const content = (op.requestBody as { content?: Record<string, { schema: JsonSchema }> } | undefined)?.content ?? {};
      const [type, media] = Object.entries(content)[0] ?? [];
      return {
        method: method.toUpperCase(),
        path,
        access: op['x-lifeline-access'] as string,
        params: (op.parameters as Operation['params']) ?? [],
        ...(type && media ? { body: { type, schema: media.schema } } : {}),
      };
    }),
  );
}

/** A value that satisfies a (request) JSON Schema: the first choice of every union, the smallest size. */
function sample(schema: JsonSchema): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const choice = schema.anyOf ?? schema.oneOf;
  if (choice?.[0]) return sample(choice[0]);
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => sample(s)));
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? []) out[key] = sample(schema.properties?.[key] ?? {});
      return out;
    }
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items ?? {}));
    case 'integer':
    case 'number':
      return schema.minimum !== undefined && schema.maximum !== undefined ? Math.round((schema.minimum + schema.maximum) / 2) : (schema.minimum ?? 1);
    case 'boolean':
      return true;
    case 'string':
      if (schema.format === 'uuid') return randomUUID();
      if (schema.format === 'email') return 'matrix@example.org';
      // Numeric ids (messages, locations): one far beyond any this test creates.
      if (schema.pattern) return '987654321';
      return 'matrix check'.padEnd(schema.minLength ?? 1, '.').slice(0, schema.maxLength ?? 100);
    default:
      return 'x';
  }
}

/** A path with its parameters filled: the given values, else a valid-looking id (a random UUID, or a large number for numeric ids). */
function fill(op: Operation, values: Record<string, string> = {}): string {
  let path = op.path;
  for (const p of op.params.filter((p) => p.in === 'path')) path = path.replace(`{${p.name}}`, values[p.name] ?? String(sample(p.schema)));
  return path;
}

async function call(gw: TestGateway, op: Operation, path: string, token: string | undefined, body: unknown): Promise<number> {
  const form = op.body?.type === 'application/x-www-form-urlencoded';
  const res = await fetch(`${gw.url}${path}`, {
    method: op.method,
    headers: {
      ...(op.body ? { 'content-type': op.body.type } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: op.body ? (form ? new URLSearchParams(body as Record<string, string>).toString() : JSON.stringify(body)) : undefined,
  });
  await res.arrayBuffer();
  return res.status;
}

/** What each caller may get: the matrix's rule for one operation. */
function verdict(access: string, caller: Caller, status: number): string | undefined {
  if (access === 'public') return status === 401 || status === 403 ? 'a public route refused' : undefined;
  if (access === 'twilio' || access === 'slack') return [401, 403, 404].includes(status) ? undefined : 'an unsigned webhook was not refused';
  if (caller === 'anonymous') return status === 401 ? undefined : 'anonymous not 401';
  if ((RANK[caller] ?? 0) < (RANK[access] ?? 99)) return status === 403 ? undefined : `${caller} below ${access} not 403`;
  return status === 401 || status === 403 ? `${caller} refused` : undefined;
}

type Ask = (socket: AgentSocket, event: string, input: unknown) => Promise<Reply<unknown>>;
const ask: Ask = (socket, event, input) =>
  (socket.timeout(5000) as unknown as { emitWithAck(e: string, i: unknown): Promise<Reply<unknown>> }).emitWithAck(event, input);

/**
 * Every agent socket event: `conversation` events are about one conversation
 * (refused to an agent not in it), `supervisor` ones to non-supervisors, and
 * `own` ones answer about the caller only. Adding an event to
 * AgentClientEvents without an entry here fails lint.
 */
type EventCase = { scope: 'conversation' | 'supervisor' | 'own'; input: (conversationId: string, ids: { other: string }) => unknown; ack?: false };
const text = () => ({ text: 'not yours', clientId: randomUUID() });
const EVENTS = {
  'presence:set': { scope: 'own', input: () => ({ presence: 'away' }) },
  'conversation:list': { scope: 'own', input: () => ({}) },
  'directory:list': { scope: 'own', input: () => ({}) },
  'conversation:open': { scope: 'conversation', input: (conversationId) => ({ conversationId }) },
  'conversation:accept': { scope: 'conversation', input: (conversationId) => ({ conversationId }) },
  'conversation:resolve': { scope: 'conversation', input: (conversationId) => ({ conversationId, resolution: AGENT_RESOLUTIONS[0] }) },
  'conversation:flag-emergency': { scope: 'conversation', input: (conversationId) => ({ conversationId }) },
  'message:send': { scope: 'conversation', input: (conversationId) => ({ conversationId, ...text() }) },
  'messages:since': { scope: 'conversation', input: (conversationId) => ({ conversationId, afterId: 0 }) },
  typing: { scope: 'conversation', input: (conversationId) => ({ conversationId, typing: true }), ack: false },
  'conversation:invite': { scope: 'conversation', input: (conversationId, ids) => ({ conversationId, agentId: ids.other }) },
  'conversation:join': { scope: 'conversation', input: (conversationId) => ({ conversationId }) },
  'conversation:leave': { scope: 'conversation', input: (conversationId) => ({ conversationId }) },
  'conversation:transfer': { scope: 'conversation', input: (conversationId, ids) => ({ conversationId, to: { agentId: ids.other }, note: 'mine now', clientId: randomUUID() }) },
  'note:add': { scope: 'conversation', input: (conversationId) => ({ conversationId, ...text() }) },
  'notice:send': { scope: 'conversation', input: (conversationId) => ({ conversationId, ...text() }) },
  'conversation:takeover': { scope: 'supervisor', input: (conversationId) => ({ conversationId }) },
} satisfies Record<keyof AgentClientEvents, EventCase>;

/** The events the agent namespace really handles: its connection handler run on a stand-in socket. */
function registeredAgentEvents(): string[] {
  const events: string[] = [];
  let onConnection: ((socket: unknown) => void) | undefined;
  const ns = {
    use: () => undefined,
    on: (event: string, handler: (socket: unknown) => void) => void (event === 'connection' && (onConnection = handler)),
  } as unknown as AgentNamespace;
  const auth = { authenticate: () => new Promise(() => undefined) } as unknown as Auth;
  attachAgentNamespace(ns, { auth, console: {} as ConsoleService, log: createLogger('silent'), maxMessageChars: 100, disconnectGraceMs: 1000 });
  onConnection?.({
    handshake: { auth: { token: 'stand-in' } },
    data: { agentId: randomUUID(), role: 'agent', displayName: 'x' },
    connected: true,
    join: () => undefined,
    on: (event: string) => void events.push(event),
  });
  return events.filter((e) => e !== 'disconnect' && e !== 'disconnecting').sort();
}

describe('authorization matrix', () => {
  let gw: TestGateway;
  let ops: Operation[];
  const tokens: Partial<Record<Caller, string>> = {};
  const passwords: Record<string, string> = {};
  let owner: { id: string; token: string };
  let outsider: { id: string; token: string };
  let supervisorId: string;
  let ownerSocket: AgentSocket;
  let citizen: CitizenSocket;
  let conversationId: string;
  let messageId: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    const doc = (await api<Doc>(gw, 'GET', '/api/docs')).body;
    ops = operationsOf(doc);
    const [o, a, s] = await createAgents(gw, [{ username: 'owner' }, { username: 'outsider' }, { username: 'super', role: 'supervisor' }]);
    owner = o!;
    outsider = a!;
    supervisorId = s!.id;
    tokens.agent = a!.token;
    tokens.supervisor = s!.token;
    tokens.admin = await login(gw, 'admin', ADMIN_PASSWORD);
    Object.assign(passwords, { agent: 'outsider-password-123', supervisor: 'super-password-123', admin: ADMIN_PASSWORD });

    // A real conversation, held by another agent: the one the outsider must not reach.
    ownerSocket = await connectAgent(gw, owner.token);
    await request(ownerSocket, 'presence:set', { presence: 'available' });
    citizen = await connectCitizen(gw);
    await request(citizen, 'session:start', { name: 'Dana' });
    const offered = nextEvent<ConversationView>(ownerSocket, 'conversation:offered');
    const sent = await request<{ id: number; conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: 'help, fire' });
    conversationId = sent.conversationId;
    messageId = String(sent.id);
    expect((await offered).id).toBe(conversationId);
    await request(ownerSocket, 'conversation:accept', { conversationId });
  }, 60_000);

  afterAll(async () => {
    ownerSocket?.disconnect();
    citizen?.disconnect();
    await gw?.destroy();
  });

  it('covers every documented operation for every caller', async () => {
    const failures: string[] = [];
    const rows: string[] = [`${'operation'.padEnd(58)} ${'access'.padEnd(10)} ${CALLERS.map((c) => c.padEnd(10)).join(' ')}`];
    for (const op of ops) {
      const path = fill(op);
      const cells: string[] = [];
      for (const caller of CALLERS) {
        // Logging out revokes the session it is called with: it gets a session of its own.
        const token = caller === 'anonymous' ? undefined : op.path === '/api/auth/logout' ? await login(gw, caller === 'admin' ? 'admin' : caller === 'agent' ? 'outsider' : 'super', passwords[caller] as string) : tokens[caller];
        // Harmless: an empty body is refused by validation wherever it is checked after access.
        const status = await call(gw, op, path, token, {});
        const wrong = verdict(op.access, caller, status);
        if (wrong) failures.push(`${op.method} ${op.path} as ${caller}: ${status} (${wrong})`);
        cells.push(String(status).padEnd(10));
      }
      rows.push(`${`${op.method} ${op.path}`.padEnd(58)} ${op.access.padEnd(10)} ${cells.join(' ')}`);
    }
    console.log(`authorization matrix: ${ops.length} operations × ${CALLERS.length} callers\n${rows.join('\n')}`);
    expect(failures).toEqual([]);
    // The document is the source: it has protected, public and signed operations, so each rule above ran.
    expect(new Set(ops.map((o) => o.access))).toEqual(new Set(['public', 'agent', 'supervisor', 'admin', 'twilio', 'slack']));
    // The sessions used are still good (nothing above revoked them).
    for (const caller of ['agent', 'supervisor', 'admin'] as const) expect((await api(gw, 'GET', '/api/auth/me', { token: tokens[caller] })).status).toBe(200);
  });

  it('keeps an agent out of a conversation they are not in, for every operation on it', async () => {
    const before = await gw.store.sql`select status, agent_id, version, resolved_at, confidential, emergency from conversations where id = ${conversationId}`;
    const [{ count: messagesBefore }] = (await gw.store.sql`select count(*)::int as count from messages where conversation_id = ${conversationId}`) as unknown as [{ count: number }];
    const scoped = ops.filter((op) => op.path.startsWith('/api/conversations/{id}') || op.path.startsWith('/api/messages/{messageId}'));
    expect(scoped.length).toBeGreaterThan(15);
    const failures: string[] = [];
    const rows: string[] = [];
    for (const op of scoped) {
      // A valid body, so the refusal is about access and not the input.
      const body = op.body ? sample(op.body.schema) : undefined;
      const status = await call(gw, op, fill(op, { id: conversationId, messageId, index: '0' }), outsider.token, body);
      rows.push(`${op.method} ${op.path} → ${status}`);
      if (status !== 403 && status !== 404) failures.push(`${op.method} ${op.path}: ${status}`);
    }
    console.log(`outsider on conversation ${conversationId}:\n${rows.join('\n')}`);
    expect(failures).toEqual([]);
    const listed = await api<{ conversations: Array<{ id: string }> }>(gw, 'GET', '/api/conversations', { token: outsider.token });
    expect(listed.body.conversations.map((c) => c.id)).not.toContain(conversationId);
    // Nothing changed: the stored conversation and its messages are as they were.
    expect(await gw.store.sql`select status, agent_id, version, resolved_at, confidential, emergency from conversations where id = ${conversationId}`).toEqual(before);
    const [{ count: messagesAfter }] = (await gw.store.sql`select count(*)::int as count from messages where conversation_id = ${conversationId}`) as unknown as [{ count: number }];
    expect(messagesAfter).toBe(messagesBefore);
  });

  it('serves every page and asset to anyone, with a content security policy that allows no inline script', async () => {
    const pages = express();
    mountPages(pages);
    const routes = (pages as unknown as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } }).router.stack
      .flatMap((layer) => (layer.route?.methods.get ? [layer.route.path] : []))
      .filter((path) => path !== '/');
    expect(routes).toEqual(expect.arrayContaining(['/console', '/chat', '/admin', '/dashboard', '/assets/chat.js']));
    for (const path of routes) {
      for (const caller of CALLERS) {
        const res = await fetch(`${gw.url}${path}`, { headers: caller === 'anonymous' ? {} : { authorization: `Bearer ${tokens[caller]}` } });
        const body = await res.text();
        expect(res.status, `${path} as ${caller}`).toBe(200);
        if (!path.startsWith('/assets/')) {
          const csp = res.headers.get('content-security-policy') ?? '';
          const directive = (name: string) => csp.split(';').map((d) => d.trim()).find((d) => d.startsWith(`${name} `));
          const scripts = directive('script-src') ?? directive('default-src');
          expect(scripts, `${path}: script-src`).toBeDefined();
          expect(scripts).not.toMatch(/'unsafe-inline'|'unsafe-eval'|\*/);
          expect(directive('object-src')).toBe("object-src 'none'");
          expect(directive('frame-ancestors')).toBe("frame-ancestors 'none'");
          // An inline script would be blocked by that policy: the pages have none.
          expect(body, `${path} has an inline script`).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
        }
      }
    }
  });

  it('refuses a socket without a live session', async () => {
    for (const token of [undefined, '', 'not-a-session', tokens.agent?.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a'))]) {
      await expect(connectAgent(gw, token as string)).rejects.toThrow();
    }
  });

  it('has a matrix entry for every event the agent namespace handles', () => {
    expect(registeredAgentEvents()).toEqual(Object.keys(EVENTS).sort());
  });

  it('refuses conversation events to an agent not in the conversation, and supervisor events to agents', async () => {
    const socket = await connectAgent(gw, outsider.token);
    const seenTyping: unknown[] = [];
    ownerSocket.on('typing', (t) => void (t.agentId === outsider.id && seenTyping.push(t)));
    const rows: string[] = [];
    const failures: string[] = [];
    try {
      for (const [event, c] of Object.entries(EVENTS) as Array<[string, EventCase]>) {
        const input = c.input(conversationId, { other: outsider.id });
        if (c.ack === false) {
          socket.emit(event as 'typing', input as never);
          rows.push(`${event} (no ack)`);
          continue;
        }
        const reply = await ask(socket, event, input);
        const code = reply.ok ? 'ok' : reply.error.code;
        rows.push(`${event} [${c.scope}] → ${code}`);
        const allowed = c.scope === 'own' ? ['ok'] : c.scope === 'supervisor' ? ['forbidden'] : ['forbidden', 'not_found'];
        if (!allowed.includes(code)) failures.push(`${event}: ${code}`);
        if (event === 'conversation:list' && reply.ok) expect((reply.data as ConversationView[]).map((v) => v.id)).not.toContain(conversationId);
      }
      // The refused events changed nothing: the owner still holds the conversation, no typing reached them.
      const detail = await request<{ conversation: ConversationView }>(ownerSocket, 'conversation:open', { conversationId });
      expect(detail.conversation).toMatchObject({ agentId: owner.id, status: 'active', emergency: false });
      expect(seenTyping).toEqual([]);
      console.log(`agent socket events as an outsider:\n${rows.join('\n')}`);
      expect(failures).toEqual([]);

      // A supervisor may take over (and is not refused where an agent is).
      const sup = await connectAgent(gw, tokens.supervisor as string);
      const taken = await ask(sup, 'conversation:takeover', { conversationId });
      sup.disconnect();
      expect(taken).toMatchObject({ ok: true, data: { agentId: supervisorId } });
    } finally {
      socket.disconnect();
    }
  });
});
