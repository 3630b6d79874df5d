/**
 * The one ingest path: idempotency on the channel message id, and the
 * transactional outbox recovering a crash between commit and enqueue.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundMessage } from '../../src/channel.ts';
import { ingest } from '../../src/ingest/ingest.ts';
import { createLogger } from '../../src/log.ts';
import type { Enqueuer } from '../../src/queue/enqueue.ts';
import { createInboundStore } from '../../src/store/inbound.ts';
import type { ConversationView } from '../../src/realtime/events.ts';
import { connectAgent, createAgents, request, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { waitFor } from '../support/wait.ts';

describe('ingest', () => {
  let gw: TestGateway;
  let linkId: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    const [link] = await gw.store.sql`select id from channel_links where name = 'webchat'`;
    linkId = link!.id as string;
  });
  afterAll(async () => {
    await gw?.destroy();
  });

  const message = (over: Partial<InboundMessage> = {}): InboundMessage => ({
    channel: 'webchat',
    channelLinkId: linkId,
    from: `citizen-${randomUUID()}`,
    channelMessageId: randomUUID(),
    text: 'help',
    receivedAt: new Date(),
    ...over,
  });

  it('stores a channel message id once, however often and however concurrently it arrives', async () => {
    const msg = message({ text: 'someone is breaking in' });
    const first = await gw.receive(msg);
    const again = await gw.receive(msg);
    const racing = await Promise.all(Array.from({ length: 5 }, () => gw.receive({ ...msg })));
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ ...first, duplicate: true });
    for (const r of racing) expect(r.messageId).toBe(first.messageId);
    const rows = await gw.store.sql`select count(*)::int as n from messages where channel_message_id = ${msg.channelMessageId}`;
    expect(rows[0]!.n).toBe(1);
    const outbox = await gw.store.sql`select count(*)::int as n from outbox where message_id = ${first.messageId}`;
    expect(outbox[0]!.n).toBe(1);
  });

  it('opens one conversation for concurrent first messages from the same sender', async () => {
    const from = `citizen-${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => gw.receive(message({ from, text: `part ${i}` }))));
    expect(new Set(results.map((r) => r.conversationId)).size).toBe(1);
    const rows = await gw.store.sql`select count(*)::int as n from messages where conversation_id = ${results[0]!.conversationId}`;
    expect(rows[0]!.n).toBe(8);
  });

  it('rejects empty and oversized texts with the field named', async () => {
    await expect(gw.receive(message({ text: '   ' }))).rejects.toMatchObject({ status: 400, field: 'text' });
    await expect(gw.receive(message({ text: 'x'.repeat(gw.config.maxMessageChars + 1) }))).rejects.toMatchObject({ status: 400, field: 'text' });
  });

  it('recovers a crash between commit and enqueue: the sweeper gets the conversation to an agent', async () => {
    const [agent] = await createAgents(gw, [{ username: 'sweeper-agent', capacity: 10 }]);
    const socket = await connectAgent(gw, agent!.token);
    await request(socket, 'presence:set', { presence: 'available' });

    // Commit happens, then the "process" dies before the job reaches the queue.
    const crashed: Enqueuer = {
      route: async () => {
        throw new Error('simulated crash after commit');
      },
      dispatch: async () => undefined,
      deliver: async () => undefined,
      deliverViaLink: async () => undefined,
      reviveRoute: async () => undefined,
      reviveDeliver: async () => undefined,
      timer: async () => undefined,
      routingDepth: async () => 0,
      close: async () => undefined,
    };
    const offers: ConversationView[] = [];
    socket.on('conversation:offered', (c) => offers.push(c));
    const result = await ingest({ inbound: createInboundStore(gw.store.sql), enqueue: crashed, log: createLogger('silent'), maxMessageChars: 5000 }, message({ text: 'I am hiding, please send help' }));
    const [pending] = await gw.store.sql`select processed_at from outbox where message_id = ${result.messageId}`;
    expect(pending!.processed_at).toBeNull();

    const offer = await waitFor('the offer to reach the agent socket', () => offers.find((c) => c.id === result.conversationId), 15_000);
    expect(offer.status).toBe('offered');
    const done = await waitFor('outbox row acknowledged', async () => {
      const [row] = await gw.store.sql`select processed_at, enqueue_count from outbox where message_id = ${result.messageId}`;
      return row!.processed_at ? row : undefined;
    });
    expect(done.enqueue_count).toBeGreaterThanOrEqual(1);
    socket.disconnect();
  });

  it('stores messages arriving together in one batch, each once, and a refused one fails alone', async () => {
    const senders = Array.from({ length: 20 }, () => `citizen-${randomUUID()}`);
    const batch = senders.flatMap((from, i) => [message({ from, text: `first ${i}` }), message({ from, text: `second ${i}` })]);
    const unknownLink = message({ channelLinkId: randomUUID(), text: 'on a link that does not exist' });
    const nul = message({ text: 'a NUL \u0000 PostgreSQL refuses' });
    const twin = batch[3]!;
    const settled = await Promise.allSettled([...batch, unknownLink, nul, { ...twin }].map((m) => gw.receive(m)));
    const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(2);
    expect(settled[batch.length]!.status).toBe('rejected');
    expect(settled[batch.length + 1]!.status).toBe('rejected');
    // The twin of a message in the same batch is that message, marked a duplicate.
    const last = settled[settled.length - 1]!;
    expect(last.status === 'fulfilled' && last.value).toMatchObject({ messageId: ok[3]!.messageId, duplicate: true });
    expect(ok.slice(0, batch.length).every((r) => !r.duplicate)).toBe(true);
    const rows = await gw.store.sql<Array<{ body: string; conversation_id: string; from: string }>>`
      select m.body, m.conversation_id, ct.address as from from messages m
        join conversations c on c.id = m.conversation_id join contacts ct on ct.id = c.contact_id
       where m.channel_message_id = any(${batch.map((m) => m.channelMessageId)})`;
    expect(rows.map((r) => r.body).sort()).toEqual(batch.map((m) => m.text).sort());
    // One conversation per sender, holding both of its messages.
    const bySender = new Map<string, Set<string>>();
    for (const r of rows) bySender.set(r.from, (bySender.get(r.from) ?? new Set()).add(r.conversation_id));
    expect([...bySender.values()].every((c) => c.size === 1)).toBe(true);
    expect(bySender.size).toBe(senders.length);
  });
});
