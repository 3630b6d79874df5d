/**
 * Starts a real gateway in the test process: its own database on the real
 * PostgreSQL, its own BullMQ prefix on the real Redis, its own port.
 */
import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { createAdapters } from '../../adapters/index.ts';
import type { ChannelAdapter } from '../../src/channel.ts';
import { loadConfig } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import type { AgentClientEvents, AgentServerEvents, CitizenClientEvents, CitizenServerEvents, Reply } from '../../src/realtime/events.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { REDIS_URL } from './services.ts';

export const ADMIN_PASSWORD = 'admin-password-for-tests';

export interface TestGateway extends Gateway {
  database: TestDatabase;
  /** Stops the gateway and drops its database. */
  destroy(): Promise<void>;
}

export async function startTestGateway(
  env: Record<string, string> = {},
  options: { adapters?: ChannelAdapter[]; database?: TestDatabase; log?: Logger } = {},
): Promise<TestGateway> {
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({
    DATABASE_URL: database.url,
    REDIS_URL,
    PORT: '0',
    HOST: '127.0.0.1',
    QUEUE_PREFIX: `t${randomBytes(5).toString('hex')}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ADMIN_PASSWORD,
    OUTBOX_SWEEP_INTERVAL_MS: '200',
    OUTBOX_STALE_MS: '500',
    OUTBOUND_BACKOFF_MS: '50',
    ...env,
  });
  const gateway = await startGateway(config, options.adapters ?? createAdapters(), options.log ?? createLogger(config.logLevel));
  return Object.assign(gateway, {
    database,
    async destroy() {
      await gateway.stop();
      await database.drop();
    },
  });
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** A JSON HTTP call with an optional bearer token. */
export async function api<T = Record<string, unknown>>(
  gateway: { url: string },
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: string } = {},
): Promise<ApiResponse<T>> {
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined || options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: options.raw ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

export async function login(gateway: { url: string }, username: string, password: string): Promise<string> {
  const res = await api<{ token: string }>(gateway, 'POST', '/api/auth/login', { body: { username, password } });
  if (res.status !== 200) throw new Error(`login ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

/** Creates agents through the admin API and returns their tokens. */
export async function createAgents(
  gateway: { url: string },
  specs: Array<{ username: string; capacity?: number; role?: 'agent' | 'supervisor' | 'admin' }>,
): Promise<Array<{ id: string; username: string; token: string }>> {
  const admin = await login(gateway, 'admin', ADMIN_PASSWORD);
  const out = [];
  for (const s of specs) {
    const password = `${s.username}-password-123`;
    const res = await api<{ agent: { id: string } }>(gateway, 'POST', '/api/agents', {
      token: admin,
      body: { username: s.username, displayName: s.username, password, capacity: s.capacity ?? 3, role: s.role ?? 'agent' },
    });
    if (res.status !== 201) throw new Error(`creating ${s.username}: ${res.status} ${JSON.stringify(res.body)}`);
    out.push({ id: res.body.agent.id, username: s.username, token: await login(gateway, s.username, password) });
  }
  return out;
}

export type AgentSocket = Socket<AgentServerEvents, AgentClientEvents>;
export type CitizenSocket = Socket<CitizenServerEvents, CitizenClientEvents>;

export async function connectAgent(gateway: { url: string }, token: string): Promise<AgentSocket> {
  const socket: AgentSocket = io(`${gateway.url}/agent`, { auth: { token }, transports: ['websocket'], forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}

export async function connectCitizen(gateway: { url: string }, token?: string): Promise<CitizenSocket> {
  const socket: CitizenSocket = io(`${gateway.url}/citizen`, { auth: token ? { token } : {}, transports: ['websocket'], forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}

/** Emits a request and returns its data, throwing on an error reply. */
export async function request<T>(socket: AgentSocket | CitizenSocket, event: string, input: unknown): Promise<T> {
  const timed = socket.timeout(10_000) as unknown as { emitWithAck(event: string, input: unknown): Promise<Reply<T>> };
  const reply = await timed.emitWithAck(event, input);
  if (!reply.ok) throw new Error(`${event} failed: ${reply.error.code} ${reply.error.message}`);
  return reply.data;
}
