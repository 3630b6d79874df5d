/**
 * Sessions end: at expiry, at logout and when an administrator disables the
 * agent, over HTTP and on live consoles. Login is rate limited per address
 * and per username. Logs never carry passwords, tokens, secrets or message text.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/passwords.ts';
import { LOGIN_LIMITS } from '../../src/http/routes/auth.ts';
import { KeyedRateLimiter } from '../../src/http/rate-limit.ts';
import { createLogger } from '../../src/log.ts';
import type { ConversationView } from '../../src/realtime/events.ts';
import {
  ADMIN_PASSWORD,
  api,
  connectAgent,
  connectCitizen,
  createAgents,
  login,
  request,
  startTestGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { nextEvent } from '../support/wait.ts';

/** A login from a given client address (the gateway trusts X-Forwarded-For from loopback). */
async function loginFrom(gw: TestGateway, address: string, username: string, password: string) {
  const res = await fetch(`${gw.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
    body: JSON.stringify({ username, password }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { error?: { code: string } } };
}

describe('sessions and login limits', () => {
  let gw: TestGateway;
  let admin: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    admin = await login(gw, 'admin', ADMIN_PASSWORD);
  });
  afterAll(async () => {
    await gw?.destroy();
  });

  const expire = (token: string, at = "now() - interval '1 second'") =>
    gw.store.sql.unsafe(`update sessions set expires_at = ${at} where token_hash = $1`, [hashToken(token)]);

  it('refuses an expired session over HTTP and on the socket, and disconnects a console when its session runs out', async () => {
    const [ann] = await createAgents(gw, [{ username: 'ann' }]);
    const fresh = await login(gw, 'ann', 'ann-password-123');
    // Not yet used (so not cached): expired now.
    await expire(fresh);
    expect(await api(gw, 'GET', '/api/auth/me', { token: fresh })).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
    await expect(connectAgent(gw, fresh)).rejects.toThrow(/expired or revoked/);

    // A console connected with a session about to end is disconnected when it ends, and the token stops working.
    await expire(ann!.token, "now() + interval '1500 milliseconds'");
    const socket = await connectAgent(gw, ann!.token);
    expect(await api(gw, 'GET', '/api/auth/me', { token: ann!.token })).toMatchObject({ status: 200 });
    expect(await nextEvent(socket, 'disconnect', () => true, 10_000)).toBe('io server disconnect');
    expect((await api(gw, 'GET', '/api/auth/me', { token: ann!.token })).status).toBe(401);
  });

  it('revokes the session at logout and disconnects its consoles, not the agent’s other sessions', async () => {
    const [bea] = await createAgents(gw, [{ username: 'bea' }]);
    const other = await login(gw, 'bea', 'bea-password-123');
    const socket = await connectAgent(gw, bea!.token);
    const otherSocket = await connectAgent(gw, other);
    await request(socket, 'presence:set', { presence: 'available' });
    const gone = nextEvent(socket, 'disconnect');
    expect((await api(gw, 'POST', '/api/auth/logout', { token: bea!.token })).status).toBe(204);
    expect(await gone).toBe('io server disconnect');
    expect((await api(gw, 'GET', '/api/auth/me', { token: bea!.token })).status).toBe(401);
    await expect(connectAgent(gw, bea!.token)).rejects.toThrow();
    const [row] = await gw.store.sql`select revoked_at from sessions where token_hash = ${hashToken(bea!.token)}`;
    expect(row?.revoked_at).not.toBeNull();
    // The other session is untouched.
    expect(otherSocket.connected).toBe(true);
    expect(await request(otherSocket, 'conversation:list', {})).toEqual([]);
    otherSocket.disconnect();
  });

  it('ends every session of a disabled agent at once, live consoles included', async () => {
    const [cy] = await createAgents(gw, [{ username: 'cy' }]);
    const second = await login(gw, 'cy', 'cy-password-123');
    const sockets = [await connectAgent(gw, cy!.token), await connectAgent(gw, second)];
    // Used just now, so cached: disabling must not wait for the cache.
    expect((await api(gw, 'GET', '/api/auth/me', { token: cy!.token })).status).toBe(200);
    const gone = sockets.map((s) => nextEvent(s, 'disconnect'));
    expect((await api(gw, 'PATCH', `/api/agents/${cy!.id}`, { token: admin, body: { disabled: true } })).status).toBe(200);
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
    for (const token of [cy!.token, second]) expect((await api(gw, 'GET', '/api/auth/me', { token })).status).toBe(401);
    expect((await loginFrom(gw, '198.51.100.7', 'cy', 'cy-password-123')).status).toBe(401);
    // Enabled again: the old sessions stay revoked; a new login works.
    expect((await api(gw, 'PATCH', `/api/agents/${cy!.id}`, { token: admin, body: { disabled: false } })).status).toBe(200);
    expect((await api(gw, 'GET', '/api/auth/me', { token: cy!.token })).status).toBe(401);
    expect((await loginFrom(gw, '198.51.100.7', 'cy', 'cy-password-123')).status).toBe(200);
  });

  it('limits failed logins per username, whatever the address, with 429, Retry-After and the JSON error', async () => {
    await createAgents(gw, [{ username: 'dee' }]);
    const { burst } = LOGIN_LIMITS.failuresPerUsername;
    for (let i = 0; i < burst; i++) expect((await loginFrom(gw, `203.0.113.${i + 1}`, 'dee', 'wrong password')).status).toBe(401);
    const limited = await loginFrom(gw, '203.0.113.200', 'DEE', 'dee-password-123');
    expect(limited).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    // Another username is not affected.
    expect((await loginFrom(gw, '203.0.113.201', 'admin', ADMIN_PASSWORD)).status).toBe(200);
  });

  it('limits every login attempt per address', async () => {
    const { burst } = LOGIN_LIMITS.perAddress;
    for (let i = 0; i < burst; i++) expect((await loginFrom(gw, '192.0.2.9', `nobody-${i}`, 'x')).status).toBe(401);
    const limited = await loginFrom(gw, '192.0.2.9', 'admin', ADMIN_PASSWORD);
    expect(limited).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await loginFrom(gw, '192.0.2.10', 'admin', ADMIN_PASSWORD)).status).toBe(200);
  });
});

describe('KeyedRateLimiter', () => {
  it('allows a burst, refills over time and keeps keys apart', () => {
    let now = 0;
    const limiter = new KeyedRateLimiter({ burst: 3, perMinute: 6 }, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(10);
    expect(limiter.take('b')).toBe(0);
    now += 10_000;
    expect(limiter.peek('a')).toBe(0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
  });
});

describe('log redaction', () => {
  it('keeps passwords, tokens, secrets and message text out of a gateway’s logs', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const gw = await startTestGateway({}, { log: createLogger('trace', sink) });
    try {
      const password = 'pw-never-logged-0481';
      const citizenText = 'text-never-logged-6630 there is smoke';
      const replyText = 'reply-never-logged-5512';
      const authToken = 'authtoken-never-logged-77321';
      const [agent] = await createAgents(gw, [{ username: 'eve' }]);
      const admin = await login(gw, 'admin', ADMIN_PASSWORD);
      await api(gw, 'PATCH', `/api/agents/${agent!.id}`, { token: admin, body: { password } });
      const token = await login(gw, 'eve', password);
      await loginFrom(gw, '198.51.100.99', 'eve', 'wrong-pw-never-logged-11');

      const socket = await connectAgent(gw, token);
      await request(socket, 'presence:set', { presence: 'available' });
      const citizen = await connectCitizen(gw);
      await request(citizen, 'session:start', { name: 'Flo' });
      const offered = nextEvent<ConversationView>(socket, 'conversation:offered');
      const { conversationId } = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: citizenText });
      expect((await offered).id).toBe(conversationId);
      await request(socket, 'conversation:accept', { conversationId });
      await request(socket, 'message:send', { conversationId, text: replyText, clientId: randomUUID() });
      const link = await api(gw, 'POST', '/api/links', {
        token: admin,
        body: {
          channel: 'twilio',
          name: 'redaction check',
          enabled: false,
          settings: { accountSid: `AC${'0'.repeat(32)}`, phoneNumbers: ['+15550100001'], publicBaseUrl: 'https://example.org' },
          secrets: { authToken },
        },
      });
      expect(link.status, JSON.stringify(link.body)).toBe(201);
      // Also an error that logs: a request the link API refuses.
      await api(gw, 'POST', '/api/links', { token: admin, body: { channel: 'twilio', secrets: { authToken } } });
      socket.disconnect();
      citizen.disconnect();
      const output = lines.join('');
      expect(lines.length).toBeGreaterThan(5);
      for (const secret of [password, token, citizenText, replyText, authToken, ADMIN_PASSWORD, 'wrong-pw-never-logged-11']) {
        expect(output.includes(secret), `${secret.slice(0, 12)}… in the logs (link answer ${link.status})`).toBe(false);
      }
    } finally {
      await gw.destroy();
    }
  });

  it('redacts credentials and content wherever they sit, up to two levels down', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    log.info({
      password: 'p1',
      token: 't1',
      secrets: { authToken: 't2' },
      req: { headers: { authorization: 'Bearer t3', cookie: 'c1' } },
      link: { secrets: { botToken: 't4' }, settings: { signingSecret: 't5' } },
      message: { body: 'b1', text: 'b2' },
      job: { message: { body: 'b3' } },
      email: { fullText: 'b4', from: 'a@example.org' },
    });
    const out = lines.join('');
    for (const value of ['p1', 't1', 't2', 't3', 'c1', 't4', 't5', 'b1', 'b2', 'b3', 'b4', 'a@example.org']) expect(out).not.toContain(`"${value}"`);
    expect(out).toContain('[redacted]');
  });

  it("keeps a failed query's parameters out of the logged error", async () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    const gw = await startTestGateway();
    const err = await gw.store.db
      .execute(sql`select ${'Help, my husband hit me +15550001111'}::int`)
      .then(() => undefined, (e: unknown) => e)
      .finally(() => gw.destroy());
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toContain('husband'); // drizzle puts the parameters in its message
    log.error({ err }, 'query failed');
    const out = lines.join('');
    expect(out).toContain('query failed');
    expect(out).toContain('[redacted]');
    expect(out).not.toContain('husband');
    expect(out).not.toContain('15550001111');
  });
});
