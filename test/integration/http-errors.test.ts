/**
 * Bad input gets a 4xx with a JSON error naming the problem, and the process keeps serving.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, api, connectAgent, createAgents, login, startTestGateway, type TestGateway } from '../support/gateway.ts';

type ErrorBody = { error: { code: string; message: string; field?: string } };

describe('HTTP API bad input', () => {
  let gw: TestGateway;
  let admin: string;
  let agent: { id: string; token: string };
  beforeAll(async () => {
    gw = await startTestGateway({ HTTP_BODY_LIMIT: '16kb' });
    admin = await login(gw, 'admin', ADMIN_PASSWORD);
    agent = (await createAgents(gw, [{ username: 'eve', capacity: 2 }]))[0]!;
  });
  afterAll(async () => {
    await gw?.destroy();
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await api<ErrorBody>(gw, 'POST', '/api/auth/login', { raw: '{"username": "admin",' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_json', field: 'body' });
  });

  it('names the missing or invalid field', async () => {
    const missing = await api<ErrorBody>(gw, 'POST', '/api/auth/login', { body: { username: 'admin' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe('password');

    const badAgent = await api<ErrorBody>(gw, 'POST', '/api/agents', { token: admin, body: { username: 'x y', displayName: 'X', password: 'short' } });
    expect(badAgent.status).toBe(400);
    expect(badAgent.body.error.field).toBe('username');

    const badPresence = await api<ErrorBody>(gw, 'PUT', '/api/agents/me/presence', { token: agent.token, body: { presence: 'sleeping' } });
    expect(badPresence.status).toBe(400);
    expect(badPresence.body.error.field).toBe('presence');

    const badResolution = await api<ErrorBody>(gw, 'POST', `/api/conversations/${randomUUID()}/resolve`, { token: admin, body: { resolution: 'whatever' } });
    expect(badResolution.status).toBe(400);
    expect(badResolution.body.error.field).toBe('resolution');
  });

  it('refuses oversized bodies with 413', async () => {
    const res = await api<ErrorBody>(gw, 'POST', '/api/auth/login', { body: { username: 'admin', password: 'p'.repeat(20_000) } });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('answers unknown and malformed conversation ids with 404 and 400', async () => {
    const unknown = await api<ErrorBody>(gw, 'GET', `/api/conversations/${randomUUID()}`, { token: admin });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    const malformed = await api<ErrorBody>(gw, 'GET', '/api/conversations/not-a-uuid', { token: admin });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.field).toBe('id');
    const reply = await api<ErrorBody>(gw, 'POST', `/api/conversations/${randomUUID()}/messages`, { token: agent.token, body: { text: 'hi', clientId: 'c1' } });
    expect(reply.status).toBe(404);
  });

  it('requires a session, and the right role', async () => {
    expect((await api<ErrorBody>(gw, 'GET', '/api/conversations')).status).toBe(401);
    expect((await api<ErrorBody>(gw, 'GET', '/api/conversations', { token: 'forged-token' })).status).toBe(401);
    const forbidden = await api<ErrorBody>(gw, 'POST', '/api/agents', { token: agent.token, body: { username: 'mallory', displayName: 'M', password: 'long-enough-password' } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('forbidden');
    const wrong = await api<ErrorBody>(gw, 'POST', '/api/auth/login', { body: { username: 'admin', password: 'wrong-password' } });
    expect(wrong.status).toBe(401);
    await expect(connectAgent(gw, 'forged-token')).rejects.toThrow();
  });

  it('answers unknown API routes with a JSON 404 and keeps serving after all of the above', async () => {
    const res = await api<ErrorBody>(gw, 'GET', '/api/nothing-here', { token: admin });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    const ready = await api<{ status: string }>(gw, 'GET', '/readyz');
    expect(ready).toEqual({ status: 200, body: { status: 'ready', database: 'ok', queue: 'ok' } });
  });

  it('revokes a session at logout', async () => {
    const token = await login(gw, 'admin', ADMIN_PASSWORD);
    expect((await api(gw, 'POST', '/api/auth/logout', { token })).status).toBe(204);
    expect((await api<ErrorBody>(gw, 'GET', '/api/auth/me', { token })).status).toBe(401);
  });
});
