/**
 * The benchmark's clients: agents online with room, and citizens whose one
 * conversation each has been offered to and accepted by an agent, so the
 * measured messages take the steady-state path of an assigned conversation.
 */
import type { AgentView, ConversationView, MessageView } from '../src/realtime/events.ts';
import { connectAgent, connectCitizen, createAgents, request, type AgentSocket, type CitizenSocket } from '../test/support/gateway.ts';
import { waitFor } from '../test/support/wait.ts';
import type { Sender } from './harness.ts';
import { CITIZEN_RATE_LIMIT, MAX_AGENT_CAPACITY } from './options.ts';

/**
 * A client-side copy of the server's per-socket token bucket. The client
 * takes a token no later than the server does, so the server's bucket holds
 * at least as many: a message this allows is never rate-limited.
 */
export class TokenBucket {
  private tokens: number = CITIZEN_RATE_LIMIT.burst;
  private last = Date.now();

  private refill(now: number): void {
    this.tokens = Math.min(CITIZEN_RATE_LIMIT.burst, this.tokens + ((now - this.last) / 1000) * CITIZEN_RATE_LIMIT.perSecond);
    this.last = now;
  }

  take(): boolean {
    this.refill(Date.now());
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until take() can succeed. */
  msUntilToken(): number {
    this.refill(Date.now());
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / CITIZEN_RATE_LIMIT.perSecond) * 1000);
  }
}

export interface BenchCitizen {
  index: number;
  socket: CitizenSocket;
  bucket: TokenBucket;
  conversationId: string;
}

export interface BenchAgent {
  id: string;
  socket: AgentSocket;
}

export interface Fleet {
  agents: BenchAgent[];
  citizens: BenchCitizen[];
  /** Where the set-up time went. */
  timings: string;
  /** Disconnects every socket. */
  close(): void;
}

async function inBatches<T, R>(items: readonly T[], size: number, run: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await Promise.all(items.slice(i, i + size).map((item, j) => run(item, i + j)))));
  }
  return out;
}

/**
 * Creates and connects `agentCount` available agents and `citizenCount`
 * citizens. The citizens then write at once; each first message opens a
 * conversation, which the agent it is offered to accepts. Resolves once all
 * are active, with how long the offers and accepts of that burst took.
 */
export async function setUpFleet(gateway: { url: string }, agentCount: number, citizenCount: number): Promise<Fleet> {
  const sockets: Array<AgentSocket | CitizenSocket> = [];
  const close = () => {
    for (const s of sockets) s.disconnect();
  };
  const t0 = performance.now();
  const since = (t: number) => `${((performance.now() - t) / 1000).toFixed(1)} s`;
  try {
    const accounts = await createAgents(
      gateway,
      Array.from({ length: agentCount }, (_, i) => ({ username: `bench-agent-${i}`, capacity: MAX_AGENT_CAPACITY })),
    );
    const offeredAt = new Map<string, number>();
    const acceptedAt = new Map<string, number>();
    const failures: string[] = [];
    const agents = await inBatches(accounts, 10, async (account) => {
      const socket = await connectAgent(gateway, account.token);
      sockets.push(socket);
      socket.on('conversation:offered', (offer: ConversationView) => {
        if (!offeredAt.has(offer.id)) offeredAt.set(offer.id, performance.now());
        request<ConversationView>(socket, 'conversation:accept', { conversationId: offer.id }).then(
          (view) => {
            if (view.status === 'active') acceptedAt.set(view.id, performance.now());
            else failures.push(`${view.id} is ${view.status} after accept`);
          },
          (err: unknown) => failures.push(String(err)),
        );
      });
      await request<AgentView>(socket, 'presence:set', { presence: 'available' });
      return { id: account.id, socket };
    });
    const agentsReady = since(t0);

    const t1 = performance.now();
    const sessions = await inBatches(Array.from({ length: citizenCount }), 50, async (_, index) => {
      const socket = await connectCitizen(gateway);
      sockets.push(socket);
      await request<{ token: string }>(socket, 'session:start', { name: `Bench citizen ${index}` });
      return { index, socket, bucket: new TokenBucket() };
    });
    const connected = since(t1);

    // Every citizen writes at once: a burst of new conversations to offer.
    const t2 = performance.now();
    const cpu = process.cpuUsage();
    const citizens = await Promise.all(
      sessions.map(async ({ index, socket, bucket }) => {
        bucket.take();
        const sent = await request<{ id: number; conversationId: string }>(socket, 'message:send', {
          clientId: `setup-${index}-of-${citizenCount}`,
          text: `bench citizen ${index}: I need help`,
        });
        return { index, socket, bucket, conversationId: sent.conversationId };
      }),
    );
    await waitFor(
      `${citizenCount} conversations accepted (${acceptedAt.size} so far${failures.length ? `; ${failures.length} failures: ${failures[0]}` : ''})`,
      () => failures.length > 0 || citizens.every((c) => acceptedAt.has(c.conversationId)),
      90_000,
    );
    const used = process.cpuUsage(cpu);
    const cpuPerConversation = (used.user + used.system) / 1000 / citizenCount;
    if (failures.length > 0) throw new Error(`accepting conversations failed: ${failures.slice(0, 3).join('; ')}`);
    if (new Set(citizens.map((c) => c.conversationId)).size !== citizenCount) throw new Error('two citizens share a conversation');
    const spread = (at: Map<string, number>) => {
      const v = Float64Array.from(citizens.map((c) => (at.get(c.conversationId) ?? Number.NaN) - t2)).sort();
      const q = (p: number) => `${(v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)]! / 1000).toFixed(1)}`;
      return `p50 ${q(50)} s, p99 ${q(99)} s, max ${q(100)} s`;
    };
    const timings =
      `agents created and online in ${agentsReady}, citizens connected in ${connected}; ` +
      `burst of ${citizenCount} first messages: offered ${spread(offeredAt)}, accepted ${spread(acceptedAt)} after the burst began; ` +
      `${cpuPerConversation.toFixed(1)} CPU ms per new conversation (ingest, score, offer, accept)`;
    return { agents, citizens, timings, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** Long enough never to fire while the drain still waits: a missing ack shows up as pending, not refused. */
const ACK_TIMEOUT_MS = 600_000;

/**
 * The web chat sender: round-robin over citizens, skipping any whose token
 * bucket is empty, each message a `message:send` on the citizen's socket.
 */
export function citizenSender(citizens: readonly BenchCitizen[], clientId: (text: string) => string): Sender {
  let cursor = 0;
  const pick = () => {
    for (let tries = 0; tries < citizens.length; tries++) {
      const citizen = citizens[cursor]!;
      cursor = (cursor + 1) % citizens.length;
      if (citizen.bucket.take()) return citizen;
    }
    return undefined;
  };
  return {
    trySend(_seq, text, onAck) {
      const citizen = pick();
      if (!citizen) return undefined;
      citizen.socket.timeout(ACK_TIMEOUT_MS).emit('message:send', { clientId: clientId(text), text }, (err, reply) => {
        if (err) onAck(false, 'ack timeout');
        else if (!reply.ok) onAck(false, reply.error.code);
        else onAck(true);
      });
      return citizen.index;
    },
    msUntilReady: () => Math.max(1, Math.min(...citizens.map((c) => c.bucket.msUntilToken()))),
  };
}

/** Sets every fleet agent's presence (away: they keep their conversations but take no new offers). */
export async function setFleetPresence(fleet: Fleet, presence: 'available' | 'away'): Promise<void> {
  await Promise.all(fleet.agents.map((a) => request<AgentView>(a.socket, 'presence:set', { presence })));
}

/** Calls `onMessage` for every inbound message any agent socket receives. */
export function onAgentMessages(fleet: Fleet, onMessage: (message: MessageView, at: number) => void): () => void {
  const listeners = fleet.agents.map((agent) => {
    const listener = (message: MessageView) => onMessage(message, performance.now());
    agent.socket.on('message:new', listener);
    return { agent, listener };
  });
  return () => {
    for (const { agent, listener } of listeners) agent.socket.off('message:new', listener);
  };
}
