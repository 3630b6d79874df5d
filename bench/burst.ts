/**
 * The burst: 10,000 texts from 5,000 senders (two each) pushed through the
 * SMPP link as fast as the window allows, while no agent takes new work, so
 * every conversation waits in the queue. Keyword rules seeded first give the
 * conversations different priorities. Once every text is stored and routed
 * (its outbox row acknowledged), agents with room for all of them come
 * online and the dispatcher offers the whole queue. Checked in SQL: each
 * text stored exactly once, one conversation per sender, each offered once,
 * and the offers (in event order) follow priority desc, queued_at asc.
 */
import http from 'node:http';
import type postgres from 'postgres';
import type { AgentView, ConversationView } from '../src/realtime/events.ts';
import { api, connectAgent, request, type AgentSocket } from '../test/support/gateway.ts';
import { waitFor } from '../test/support/wait.ts';
import { num, ms, percentile, table } from './harness.ts';
import { MAX_AGENT_CAPACITY } from './options.ts';
import { submit, type PipelinedEsme } from './smpp.ts';

/** Keyword rules seeded for the burst: distinct priorities. */
const RULES = [
  { name: 'bench: weapon', terms: ['weapon'], priority: 90 },
  { name: 'bench: smoke', terms: ['smoke'], priority: 70 },
  { name: 'bench: bleeding', terms: ['bleeding'], priority: 50 },
  { name: 'bench: lost', terms: ['lost'], priority: 20 },
];
/** What the texts say: one word per rule, or none (priority from the default rules only). */
const WORDS = ['weapon', 'smoke', 'bleeding', 'lost', 'quiet'];

export interface BurstOptions {
  texts: number;
  senders: number;
  window: number;
  /** Give up after this long without progress (ms). */
  idleMs: number;
}

export interface BurstResult {
  texts: number;
  senders: number;
  refused: number;
  /** Texts per second, first submit to last submit_sm_resp (stored: committed). */
  storedPerSecond: number;
  /** Texts per second, first submit to every outbox row acknowledged (routed). */
  routedPerSecond: number;
  ackP50: number;
  ackP99: number;
  storedRows: number;
  distinctStored: number;
  conversations: number;
  routedRows: number;
  distinctPriorities: number;
  offeredConversations: number;
  offerEvents: number;
  /** Agent sockets' conversation:offered for these conversations: distinct, and extra copies. */
  offersReceived: number;
  duplicateOffers: number;
  /** Adjacent pairs of first offers against priority desc, queued_at asc. */
  outOfOrder: number;
  /** Seconds from agents online to every conversation offered. */
  dispatchSeconds: number;
}

const senderOf = (i: number) => `1555800${String(i).padStart(4, '0')}`;
/** A fixed word per text, spread so that a sender's two texts often differ. */
const wordOf = (i: number) => WORDS[(i * 7919) % 13 % WORDS.length]!;

/**
 * Creates an agent through the admin API and signs it in from its own
 * loopback address (127.0.1.<n>), as agents at their own workstations do:
 * the login rate limit (30 a minute per address) then holds for each.
 */
async function createBurstAgent(gateway: { url: string }, adminToken: string, index: number): Promise<string> {
  const username = `burst-agent-${index}`;
  const password = `${username}-password-123`;
  const created = await api(gateway, 'POST', '/api/agents', {
    token: adminToken,
    body: { username, displayName: username, password, capacity: MAX_AGENT_CAPACITY, role: 'agent' },
  });
  if (created.status !== 201) throw new Error(`creating ${username}: ${created.status} ${JSON.stringify(created.body)}`);
  const { hostname, port } = new URL(gateway.url);
  const body = JSON.stringify({ username, password });
  const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(
      {
        hostname,
        port,
        path: '/api/auth/login',
        method: 'POST',
        localAddress: `127.0.${1 + Math.floor(index / 250)}.${2 + (index % 250)}`,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => void (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  if (reply.status !== 200) throw new Error(`login ${username}: ${reply.status} ${reply.text}`);
  return (JSON.parse(reply.text) as { token: string }).token;
}

/** Sets every queue to hold the whole burst: no escalation, offer time-out or queue-full bounce-back during the run. */
async function prepareQueues(gateway: { url: string }, token: string): Promise<void> {
  const queues = await api<{ queues: Array<{ id: string }> }>(gateway, 'GET', '/api/queues', { token });
  for (const q of queues.body.queues) {
    const res = await api(gateway, 'PATCH', `/api/queues/${q.id}`, { token, body: { answerTargetSeconds: 3600, offerTimeoutSeconds: 600, maxWaiting: 100_000 } });
    if (res.status !== 200) throw new Error(`preparing queue ${q.id}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  for (const rule of RULES) {
    const res = await api(gateway, 'POST', '/api/rules', { token, body: { ...rule, kind: 'keyword' } });
    if (res.status !== 201) throw new Error(`seeding rule ${rule.name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/**
 * Runs the burst. `holdAgents` sets the existing agents away (they keep
 * their conversations and stay signed in, so nothing is bounced back).
 */
export async function runBurst(
  gateway: { url: string },
  sql: postgres.Sql,
  adminToken: string,
  esme: PipelinedEsme,
  holdAgents: () => Promise<void>,
  o: BurstOptions,
  log: (line: string) => void,
): Promise<BurstResult> {
  const tag = `burst${Date.now().toString(36)}`;
  await prepareQueues(gateway, adminToken);
  await holdAgents();
  const agentCount = Math.ceil(o.senders / MAX_AGENT_CAPACITY);
  const tokens: string[] = [];
  for (let i = 0; i < agentCount; i++) tokens.push(await createBurstAgent(gateway, adminToken, i));
  const offers = new Map<string, number>();
  const sockets: AgentSocket[] = [];
  try {
    for (const token of tokens) {
      const socket = await connectAgent(gateway, token);
      socket.on('conversation:offered', (c: ConversationView) => void offers.set(c.id, (offers.get(c.id) ?? 0) + 1));
      sockets.push(socket);
    }
    log(`burst set-up: queues set to hold ${o.senders} waiting, ${RULES.length} keyword rules, fleet agents away, ${agentCount} burst agents connected (offline)`);

    // The outbox rows of the burst are those after this mark (nothing else arrives meanwhile), so the
    // progress poll reads them by primary key instead of searching every message's text: a slow poll
    // would hold back PostgreSQL's clean-up of the very rows the gateway is updating.
    const [mark] = await sql<Array<{ id: string }>>`select coalesce(max(id), 0)::text as id from outbox`;
    const sentAt = new Float64Array(o.texts);
    const ackAt = new Float64Array(o.texts).fill(Number.NaN);
    let refused = 0;
    const t0 = performance.now();
    await esme.push(
      o.texts,
      o.window,
      // Text i comes from sender i mod senders: every sender's first text before any second one.
      (i) => submit(senderOf(i % o.senders), `${tag}:${i} help ${wordOf(i)}`),
      (i) => void (sentAt[i] = performance.now()),
      (i, status) => {
        if (status === 0) ackAt[i] = performance.now();
        else refused += 1;
      },
    );
    const stored = performance.now();
    const routedCount = async () => {
      const [row] = await sql<Array<{ n: number }>>`
        select count(*)::int as n from outbox o join messages m on m.id = o.message_id
        where o.id > ${mark?.id ?? '0'}::bigint and o.kind = 'route' and o.processed_at is not null and m.direction = 'inbound'`;
      return row?.n ?? 0;
    };
    let routed = 0;
    let lastProgress = performance.now();
    await waitFor(
      `${o.texts} burst texts routed`,
      async () => {
        const n = await routedCount();
        if (n !== routed) lastProgress = performance.now();
        routed = n;
        return n >= o.texts - refused || performance.now() - lastProgress > o.idleMs;
      },
      600_000,
      100,
    );
    const routedAt = performance.now();
    log(`  burst: ${o.texts} texts stored in ${((stored - t0) / 1000).toFixed(1)} s, routed (outbox acknowledged) in ${((routedAt - t0) / 1000).toFixed(1)} s`);

    // Every agent comes online at once; each presence change triggers a dispatch pass.
    const t1 = performance.now();
    await Promise.all(sockets.map((s) => request<AgentView>(s, 'presence:set', { presence: 'available' })));
    const conversationIds = new Set(
      (
        await sql<Array<{ id: string }>>`
          select distinct conversation_id as id from messages where direction = 'inbound' and body like ${`${tag}:%`}`
      ).map((r) => r.id),
    );
    const offered = () => [...conversationIds].filter((id) => offers.has(id)).length;
    let seen = 0;
    lastProgress = performance.now();
    await waitFor(
      `${conversationIds.size} burst conversations offered`,
      () => {
        const n = offered();
        if (n !== seen) lastProgress = performance.now();
        seen = n;
        return n >= conversationIds.size || performance.now() - lastProgress > o.idleMs;
      },
      600_000,
      50,
    );
    const dispatchSeconds = (performance.now() - t1) / 1000;

    const [rows] = await sql<Array<{ n: number; distinct: number; conversations: number; priorities: number }>>`
      select count(*)::int as n, count(distinct body)::int as distinct,
             count(distinct conversation_id)::int as conversations,
             (select count(distinct c.priority)::int from conversations c
               where c.id in (select conversation_id from messages where body like ${`${tag}:%`})) as priorities
      from messages where direction = 'inbound' and body like ${`${tag}:%`}`;
    const firstOffers = await sql<Array<{ conversationId: string; priority: number; queuedAt: Date; offers: number }>>`
      select e.conversation_id as "conversationId", c.priority, c.queued_at as "queuedAt", e.offers
      from (select conversation_id, min(id) as first, count(*)::int as offers from events
             where type = 'conversation.offered'
               and conversation_id in (select conversation_id from messages where body like ${`${tag}:%`})
             group by conversation_id) e
      join conversations c on c.id = e.conversation_id
      order by e.first`;
    let outOfOrder = 0;
    for (let i = 1; i < firstOffers.length; i++) {
      const a = firstOffers[i - 1]!;
      const b = firstOffers[i]!;
      if (a.priority < b.priority || (a.priority === b.priority && a.queuedAt.getTime() > b.queuedAt.getTime())) outOfOrder += 1;
    }
    const acks = Float64Array.from([...ackAt.keys()].filter((i) => !Number.isNaN(ackAt[i]!)).map((i) => ackAt[i]! - sentAt[i]!)).sort();
    const received = [...conversationIds].filter((id) => offers.has(id));
    return {
      texts: o.texts,
      senders: o.senders,
      refused,
      storedPerSecond: ((o.texts - refused) / (stored - t0)) * 1000,
      routedPerSecond: (routed / (routedAt - t0)) * 1000,
      ackP50: percentile(acks, 50),
      ackP99: percentile(acks, 99),
      storedRows: rows?.n ?? 0,
      distinctStored: rows?.distinct ?? 0,
      conversations: rows?.conversations ?? 0,
      routedRows: routed,
      distinctPriorities: rows?.priorities ?? 0,
      offeredConversations: firstOffers.length,
      offerEvents: firstOffers.reduce((sum, r) => sum + r.offers, 0),
      offersReceived: received.length,
      duplicateOffers: received.reduce((sum, id) => sum + (offers.get(id) ?? 0) - 1, 0),
      outOfOrder,
      dispatchSeconds,
    };
  } finally {
    for (const s of sockets) s.disconnect();
  }
}

/** Why the burst failed its checks; empty when it passed. */
export function burstProblems(r: BurstResult): string[] {
  const out: string[] = [];
  if (r.refused > 0) out.push(`${r.refused} refused`);
  if (r.distinctStored !== r.texts) out.push(`${r.texts - r.distinctStored} not stored`);
  if (r.storedRows !== r.distinctStored) out.push(`${r.storedRows - r.distinctStored} duplicate rows`);
  if (r.conversations !== r.senders) out.push(`${r.conversations} conversations for ${r.senders} senders`);
  if (r.routedRows !== r.texts) out.push(`${r.texts - r.routedRows} not routed`);
  if (r.offeredConversations !== r.senders) out.push(`${r.senders - r.offeredConversations} conversations never offered`);
  if (r.offerEvents !== r.offeredConversations) out.push(`${r.offerEvents - r.offeredConversations} repeated offers`);
  if (r.offersReceived !== r.offeredConversations || r.duplicateOffers > 0) out.push(`agent sockets saw ${r.offersReceived} offers (${r.duplicateOffers} duplicates)`);
  if (r.outOfOrder > 0) out.push(`${r.outOfOrder} offers out of priority order`);
  return out;
}

export function formatBurst(r: BurstResult): string {
  const bad = burstProblems(r);
  return table(
    `Burst: ${num(r.texts)} SMPP texts from ${num(r.senders)} senders, no agent taking work; then ${Math.ceil(r.senders / MAX_AGENT_CAPACITY)} agents online (checked in SQL)`,
    ['texts', 'stored/s', 'routed/s', 'ack p50', 'ack p99', 'rows', 'distinct', 'convs', 'routed', 'priorities', 'offered', 'offer events', 'agent rx', 'dispatch s', 'out of order', 'result'],
    [
      [
        num(r.texts),
        num(r.storedPerSecond),
        num(r.routedPerSecond),
        ms(r.ackP50),
        ms(r.ackP99),
        num(r.storedRows),
        num(r.distinctStored),
        num(r.conversations),
        num(r.routedRows),
        num(r.distinctPriorities),
        num(r.offeredConversations),
        num(r.offerEvents),
        num(r.offersReceived),
        r.dispatchSeconds.toFixed(1),
        num(r.outOfOrder),
        bad.length === 0 ? 'ok: stored once, routed, offered in priority order' : `FAIL: ${bad.join('; ')}`,
      ],
    ],
  );
}
