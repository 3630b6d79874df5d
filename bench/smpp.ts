/**
 * The SMPP part of `npm run bench`: inbound texts per second through one
 * bind, to stored (the submit_sm_resp, sent only after the commit) and to
 * routed (the assigned agent's `message:new`), at two window sizes.
 *
 * A fresh gateway runs a server-mode link created through the API; a raw
 * ESME on a socket binds as a transmitter and pushes submit_sm as fast as
 * its window allows (the next one goes out as soon as a response frees a
 * slot). The citizens' conversations are accepted by an agent first, so the
 * measured texts take the steady-state path. Every text is checked to be
 * stored once (rows in `messages`) and shown once (agent socket).
 */
import net, { type Socket } from 'node:net';
import { PDU } from 'smpp';
import { PduFramer } from '../adapters/smpp/wire.ts';
import type { ConversationView, MessageView } from '../src/realtime/events.ts';
import { ADMIN_PASSWORD, api, connectAgent, createAgents, login, request, startTestGateway, type AgentSocket, type TestGateway } from '../test/support/gateway.ts';
import { freePort } from '../test/support/kannel.ts';
import { waitFor } from '../test/support/wait.ts';
import { num, ms, percentile, table } from './report.ts';

/** How the SMPP bench runs. */
export interface SmppBenchOptions {
  /** Gateway environment (log level, worker concurrency). */
  env: Record<string, string>;
  /** Texts per window setting. */
  texts: number;
  windows: readonly number[];
  /** Citizens the texts are spread over (each one conversation). */
  citizens: number;
  /** Give up waiting after this long without progress. */
  drainMs: number;
  /** Removes what the gateway left in Redis after it stopped. */
  cleanUp(gateway: TestGateway): Promise<void>;
  log(line: string): void;
}

/** One window setting's outcome. */
export interface SmppRun {
  window: number;
  sent: number;
  acked: number;
  refused: number;
  routed: number;
  duplicateDeliveries: number;
  storedRows: number;
  duplicateRows: number;
  lost: number;
  storedPerSecond: number;
  routedPerSecond: number;
  ack: Float64Array;
  endToEnd: Float64Array;
}

/** A raw ESME: one bind, a window of outstanding submit_sm, responses matched by sequence number. */
class PipelinedEsme {
  private readonly waiting = new Map<number, (status: number) => void>();
  private sequence = 0;

  private constructor(private readonly socket: Socket) {
    const framer = new PduFramer();
    socket.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      for (let f = framer.next(); f?.kind === 'pdu'; f = framer.next()) {
        const { commandId, sequence, status } = f.header;
        if (commandId & 0x80000000) {
          this.waiting.get(sequence)?.(status);
          this.waiting.delete(sequence);
        } else if (commandId === 0x15) {
          socket.write(new PDU('enquire_link_resp', { sequence_number: sequence }).toBuffer());
        }
      }
    });
    socket.on('error', () => undefined);
  }

  static async bind(port: number, systemId: string, password: string): Promise<PipelinedEsme> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    const esme = new PipelinedEsme(socket);
    const status = await esme.send(new PDU('bind_transmitter', { system_id: systemId, password, interface_version: 0x34 }));
    if (status !== 0) throw new Error(`bench bind refused: 0x${status.toString(16)}`);
    return esme;
  }

  send(pdu: PDU): Promise<number> {
    this.sequence += 1;
    pdu.sequence_number = this.sequence;
    const answered = new Promise<number>((resolve) => this.waiting.set(this.sequence, resolve));
    this.socket.write(pdu.toBuffer());
    return answered;
  }

  /** Sends `count` texts keeping `window` outstanding; `onAck(index, status)` per response. */
  async push(count: number, window: number, build: (index: number) => PDU, onSend: (index: number) => void, onAck: (index: number, status: number) => void): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < count) {
        const index = next++;
        onSend(index);
        onAck(index, await this.send(build(index)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
  }

  close(): void {
    this.socket.destroy();
  }
}

const submit = (from: string, text: string) =>
  new PDU('submit_sm', { source_addr_ton: 1, source_addr_npi: 1, source_addr: from, destination_addr: '911', data_coding: 0, short_message: Buffer.from(text, 'latin1') });

const citizenOf = (i: number) => `1555900${String(i).padStart(4, '0')}`;

/** Opens one accepted conversation per citizen (their first text, offered to and accepted by the agent). */
async function acceptConversations(esme: PipelinedEsme, agent: AgentSocket, citizens: number): Promise<void> {
  const accepted = new Set<string>();
  const failures: string[] = [];
  const onOffer = (offer: ConversationView) => {
    request<ConversationView>(agent, 'conversation:accept', { conversationId: offer.id }).then(
      (view) => accepted.add(view.id),
      (err: unknown) => failures.push(String(err)),
    );
  };
  agent.on('conversation:offered', onOffer);
  await esme.push(citizens, 10, (i) => submit(citizenOf(i), `smpp bench citizen ${i}: I need help`), () => undefined, () => undefined);
  await waitFor(`${citizens} SMS conversations accepted`, () => failures.length > 0 || accepted.size >= citizens, 60_000);
  agent.off('conversation:offered', onOffer);
  if (failures.length > 0) throw new Error(`accepting SMS conversations failed: ${failures[0]}`);
}

async function runWindow(gateway: TestGateway, esme: PipelinedEsme, agent: AgentSocket, window: number, o: SmppBenchOptions): Promise<SmppRun> {
  const tag = `w${window}-${Date.now().toString(36)}`;
  const sentAt = new Float64Array(o.texts);
  const ackAt = new Float64Array(o.texts).fill(Number.NaN);
  const seenAt = new Float64Array(o.texts).fill(Number.NaN);
  let refused = 0;
  let routed = 0;
  let duplicateDeliveries = 0;
  let lastProgress = performance.now();
  const onMessage = (m: MessageView) => {
    if (m.direction !== 'inbound' || !m.body.startsWith(`${tag}:`)) return;
    const index = Number(m.body.slice(tag.length + 1));
    if (!Number.isNaN(seenAt[index] as number)) {
      duplicateDeliveries += 1;
      return;
    }
    seenAt[index] = performance.now();
    routed += 1;
    lastProgress = performance.now();
  };
  agent.on('message:new', onMessage);
  await esme.push(
    o.texts,
    window,
    (i) => submit(citizenOf(i % o.citizens), `${tag}:${i}`),
    (i) => {
      sentAt[i] = performance.now();
    },
    (i, status) => {
      if (status === 0) ackAt[i] = performance.now();
      else refused += 1;
    },
  );
  const acked = o.texts - refused;
  await waitFor(`${acked} texts at the agent`, () => routed >= acked || performance.now() - lastProgress > o.drainMs, 120_000, 50).catch(() => undefined);
  agent.off('message:new', onMessage);
  const rows = await gateway.store.sql<Array<{ body: string; n: number }>>`
    select body, count(*)::int as n from messages where direction = 'inbound' and body like ${`${tag}:%`} group by body`;
  const first = sentAt[0] as number;
  const done = (at: Float64Array) => at.reduce((max, v) => (Number.isNaN(v) ? max : Math.max(max, v)), first);
  const spans = (at: Float64Array) => Float64Array.from([...at.keys()].filter((i) => !Number.isNaN(at[i] as number)).map((i) => (at[i] as number) - (sentAt[i] as number))).sort();
  const storedIndexes = new Set(rows.map((r) => Number(r.body.slice(tag.length + 1))));
  let lost = 0;
  for (let i = 0; i < o.texts; i++) if (Number.isNaN(seenAt[i] as number) || !storedIndexes.has(i)) lost += 1;
  return {
    window,
    sent: o.texts,
    acked,
    refused,
    routed,
    duplicateDeliveries,
    storedRows: rows.reduce((sum, r) => sum + r.n, 0),
    duplicateRows: rows.reduce((sum, r) => sum + r.n - 1, 0),
    lost,
    storedPerSecond: (acked / (done(ackAt) - first)) * 1000,
    routedPerSecond: (routed / (done(seenAt) - first)) * 1000,
    ack: spans(ackAt),
    endToEnd: spans(seenAt),
  };
}

/** Why a run failed the exactly-once check; empty when it passed. */
export function smppProblems(r: SmppRun): string[] {
  const out: string[] = [];
  if (r.lost > 0) out.push(`${r.lost} lost`);
  if (r.refused > 0) out.push(`${r.refused} refused`);
  if (r.duplicateDeliveries > 0) out.push(`${r.duplicateDeliveries} duplicate deliveries`);
  if (r.duplicateRows > 0) out.push(`${r.duplicateRows} duplicate rows`);
  return out;
}

/** The SMPP tables, in the style of the web-chat ones. */
export function formatSmppRuns(runs: readonly SmppRun[]): string {
  return table(
    'SMPP server mode, one bind: submit_sm -> submit_sm_resp (stored: sent after commit) -> agent socket message:new (routed); ms',
    ['window', 'texts', 'stored/s', 'routed/s', 'ack p50', 'ack p99', 'e2e p50', 'e2e p90', 'e2e p99', 'max', 'stored rows', 'dup rows', 'agent rx', 'dup rx', 'lost', 'result'],
    runs.map((r) => {
      const bad = smppProblems(r);
      return [
        String(r.window),
        num(r.sent),
        num(r.storedPerSecond),
        num(r.routedPerSecond),
        ms(percentile(r.ack, 50)),
        ms(percentile(r.ack, 99)),
        ms(percentile(r.endToEnd, 50)),
        ms(percentile(r.endToEnd, 90)),
        ms(percentile(r.endToEnd, 99)),
        ms(r.endToEnd.length ? (r.endToEnd[r.endToEnd.length - 1] as number) : Number.NaN),
        num(r.storedRows),
        num(r.duplicateRows),
        num(r.routed),
        num(r.duplicateDeliveries),
        num(r.lost),
        bad.length === 0 ? 'ok' : `FAIL: ${bad.join('; ')}`,
      ];
    }),
  );
}

/** Runs the SMPP bench on its own gateway; resolves with the runs (printing progress through `log`). */
export async function runSmppBench(o: SmppBenchOptions): Promise<SmppRun[]> {
  const gateway = await startTestGateway(o.env);
  let esme: PipelinedEsme | undefined;
  let agent: AgentSocket | undefined;
  try {
    const admin = await login(gateway, 'admin', ADMIN_PASSWORD);
    const port = await freePort();
    const created = await api<{ link: { id: string } }>(gateway, 'POST', '/api/links', {
      token: admin,
      body: { channel: 'sms', name: 'bench-tcc', settings: { mode: 'server', host: '127.0.0.1', port, systemId: 'bench', window: 50 }, secrets: { password: 'bench' } },
    });
    if (created.status !== 201) throw new Error(`creating the bench SMPP link: ${created.status} ${JSON.stringify(created.body)}`);
    const [account] = await createAgents(gateway, [{ username: 'smpp-bench-agent', capacity: Math.max(o.citizens, 1) }]);
    agent = await connectAgent(gateway, account!.token);
    await request(agent, 'presence:set', { presence: 'available' });
    esme = await waitFor('the bench ESME bound', () => PipelinedEsme.bind(port, 'bench', 'bench'), 15_000, 100);
    const setUp = performance.now();
    await acceptConversations(esme, agent, o.citizens);
    o.log(`smpp set-up: server link on 127.0.0.1:${port}, one transmitter bind, ${o.citizens} citizens' conversations accepted in ${((performance.now() - setUp) / 1000).toFixed(1)} s`);
    const runs: SmppRun[] = [];
    for (const window of o.windows) {
      const started = performance.now();
      const run = await runWindow(gateway, esme, agent, window, o);
      const bad = smppProblems(run);
      o.log(`  smpp window ${window}: ${run.sent} texts in ${((performance.now() - started) / 1000).toFixed(1)} s${bad.length ? ` - ${bad.join('; ')}` : ''}`);
      runs.push(run);
    }
    return runs;
  } finally {
    esme?.close();
    agent?.disconnect();
    await gateway.destroy();
    await o.cleanUp(gateway);
  }
}
