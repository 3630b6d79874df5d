/**
 * Outbound delivery: retries with backoff through the real BullMQ, and the
 * status (queued, sent, failed) pushed to the console.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebchatAdapter } from '../../adapters/webchat/index.ts';
import type { ChannelAdapter } from '../../src/channel.ts';
import { ChannelSendError } from '../../src/errors.ts';
import type { ConversationView, MessageView } from '../../src/realtime/events.ts';
import { connectAgent, connectCitizen, createAgents, request, startTestGateway, type AgentSocket, type CitizenSocket, type TestGateway } from '../support/gateway.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

/** The real web-chat adapter behind a switch that makes sends fail at the wire. */
function flakyWebchat(): ChannelAdapter & { failures: Map<string, { left: number; retryable: boolean }>; attempts: Map<string, number> } {
  const inner = createWebchatAdapter();
  const failures = new Map<string, { left: number; retryable: boolean }>();
  const attempts = new Map<string, number>();
  return {
    ...inner,
    channel: inner.channel,
    start: (deps) => inner.start(deps),
    stop: () => inner.stop(),
    agentTyping: inner.agentTyping,
    failures,
    attempts,
    async send(message) {
      attempts.set(message.text, (attempts.get(message.text) ?? 0) + 1);
      const plan = failures.get(message.text);
      if (plan && plan.left > 0) {
        plan.left -= 1;
        throw new ChannelSendError('peer unavailable', { retryable: plan.retryable });
      }
      return inner.send(message);
    },
  };
}

describe('outbound delivery', () => {
  let gw: TestGateway;
  let adapter: ReturnType<typeof flakyWebchat>;
  let agent: AgentSocket;
  let citizen: CitizenSocket;
  let conversationId: string;

  beforeAll(async () => {
    adapter = flakyWebchat();
    gw = await startTestGateway({ OUTBOUND_ATTEMPTS: '4', OUTBOUND_BACKOFF_MS: '20' }, { adapters: [adapter] });
    const [a] = await createAgents(gw, [{ username: 'olga', capacity: 3 }]);
    agent = await connectAgent(gw, a!.token);
    await request(agent, 'presence:set', { presence: 'available' });
    citizen = await connectCitizen(gw);
    await request(citizen, 'session:start', {});
    const offered = nextEvent<ConversationView>(agent, 'conversation:offered');
    await request(citizen, 'message:send', { clientId: randomUUID(), text: 'is anyone there?' });
    conversationId = (await offered).id;
    await request(agent, 'conversation:accept', { conversationId });
    await request(agent, 'conversation:open', { conversationId });
  });
  afterAll(async () => {
    citizen?.disconnect();
    agent?.disconnect();
    await gw?.destroy();
  });

  it('retries a retryable failure with backoff until it is sent', async () => {
    adapter.failures.set('first try fails twice', { left: 2, retryable: true });
    const arrived = nextEvent<{ body: string }>(citizen, 'message:new', (m) => m.body === 'first try fails twice');
    const sent = nextEvent<{ id: number; status: string }>(agent, 'message:status', (s) => s.status === 'sent');
    const stored = await request<MessageView>(agent, 'message:send', { conversationId, text: 'first try fails twice', clientId: randomUUID() });
    expect(stored.deliveryStatus).toBe('queued');
    expect((await sent).id).toBe(stored.id);
    await arrived;
    expect(adapter.attempts.get('first try fails twice')).toBe(3);
  });

  it('marks a message failed after a permanent error, at once, and tells the console', async () => {
    adapter.failures.set('never deliverable', { left: 99, retryable: false });
    const failed = nextEvent<{ id: number; status: string; error: string | null }>(agent, 'message:status', (s) => s.status === 'failed');
    const stored = await request<MessageView>(agent, 'message:send', { conversationId, text: 'never deliverable', clientId: randomUUID() });
    const status = await failed;
    expect(status).toMatchObject({ id: stored.id, error: 'peer unavailable' });
    expect(adapter.attempts.get('never deliverable')).toBe(1);
    const [row] = await gw.store.sql`select delivery_status, delivery_error from messages where id = ${stored.id}`;
    expect(row).toEqual({ delivery_status: 'failed', delivery_error: 'peer unavailable' });
  });

  it('gives up after the configured attempts and records the failure', async () => {
    adapter.failures.set('peer down for good', { left: 99, retryable: true });
    const failed = nextEvent<{ id: number; status: string }>(agent, 'message:status', (s) => s.status === 'failed', 15_000);
    const stored = await request<MessageView>(agent, 'message:send', { conversationId, text: 'peer down for good', clientId: randomUUID() });
    expect((await failed).id).toBe(stored.id);
    expect(adapter.attempts.get('peer down for good')).toBe(4);
    // Acknowledged, so the sweeper will not send it again.
    await waitFor('the outbox row acknowledged', async () => {
      const [outbox] = await gw.store.sql`select processed_at from outbox where message_id = ${stored.id}`;
      return outbox!.processed_at !== null;
    });
  });
});
