/**
 * Bad socket input gets an error reply naming the field; the gateway keeps serving.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/realtime/events.ts';
import { connectAgent, connectCitizen, createAgents, request, startTestGateway, type TestGateway } from '../support/gateway.ts';

type Emitter = { timeout(ms: number): unknown };
const ask = (socket: Emitter, event: string, input: unknown) =>
  (socket.timeout(5000) as { emitWithAck(e: string, i: unknown): Promise<Reply<unknown>> }).emitWithAck(event, input);

describe('socket bad input', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ MAX_MESSAGE_CHARS: '100' });
  });
  afterAll(async () => {
    await gw?.destroy();
  });

  it('answers citizens with coded errors', async () => {
    const citizen = await connectCitizen(gw);
    expect(await ask(citizen, 'message:send', { clientId: randomUUID(), text: 'before a session' })).toMatchObject({ ok: false, error: { field: 'session' } });
    await request(citizen, 'session:start', {});
    expect(await ask(citizen, 'message:send', { clientId: randomUUID(), text: 42 })).toMatchObject({ ok: false, error: { code: 'invalid_request', field: 'text' } });
    expect(await ask(citizen, 'message:send', { clientId: 'x', text: 'hi' })).toMatchObject({ ok: false, error: { field: 'clientId' } });
    expect(await ask(citizen, 'message:send', { clientId: randomUUID(), text: 'y'.repeat(101) })).toMatchObject({ ok: false, error: { field: 'text' } });
    expect(await ask(citizen, 'message:send', null)).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(await ask(citizen, 'session:start', {})).toMatchObject({ ok: false, error: { field: 'session' } });
    // Another citizen's client id is theirs alone: the same id from this session is a new message.
    const other = await connectCitizen(gw);
    await request(other, 'session:start', {});
    const shared = randomUUID();
    const mine = await request<{ id: number; conversationId: string }>(other, 'message:send', { clientId: shared, text: 'from the other citizen' });
    const theirs = await request<{ id: number; conversationId: string }>(citizen, 'message:send', { clientId: shared, text: 'same id, different citizen' });
    expect(theirs.conversationId).not.toBe(mine.conversationId);
    expect(theirs.id).not.toBe(mine.id);
    other.disconnect();
    // Still serving: a good message goes through.
    const ok = await ask(citizen, 'message:send', { clientId: randomUUID(), text: 'still there?' });
    expect(ok.ok).toBe(true);
    citizen.disconnect();
  });

  it('answers agents with coded errors and refuses conversations that are not theirs', async () => {
    const [agent] = await createAgents(gw, [{ username: 'ivy' }]);
    const socket = await connectAgent(gw, agent!.token);
    expect(await ask(socket, 'presence:set', { presence: 'asleep' })).toMatchObject({ ok: false, error: { field: 'presence' } });
    expect(await ask(socket, 'conversation:open', { conversationId: 'nope' })).toMatchObject({ ok: false, error: { field: 'conversationId' } });
    expect(await ask(socket, 'conversation:open', { conversationId: randomUUID() })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const [other] = await gw.store.sql`select id from conversations limit 1`;
    expect(await ask(socket, 'conversation:open', { conversationId: other!.id })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await ask(socket, 'message:send', { conversationId: other!.id, text: 'x', clientId: 'c' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const list = await request<unknown[]>(socket, 'conversation:list', {});
    expect(list).toEqual([]);
    socket.disconnect();
  });
});
