/**
 * The raw baseline: the same libraries as Lifeline (express, postgres.js,
 * BullMQ on ioredis, Socket.IO) on the same PostgreSQL and Redis, and
 * nothing from src/. `POST /m {id, from, text}` inserts one row, adds one
 * BullMQ job and answers; a Worker takes the job and emits the row to the
 * agent's room; a socket.io-client receiver in the bench process sees it.
 * No dedupe, no conversation, no outbox, no routing, no Redis adapter for
 * Socket.IO: what the stack costs before any of Lifeline's guarantees.
 *
 * Run as a child process by the bench (this module's main), configured by
 * BASELINE_* variables; the bench side (sender and receivers) is exported.
 */
import http from 'node:http';
import { Queue, Worker } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import type { Sender } from './harness.ts';
import { Tracker } from './tracker.ts';

const QUEUE = 'baseline';
/** The same retention as Lifeline's routing jobs (src/queue/enqueue.ts). */
const KEEP = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 } } as const;

interface BaselineMessage {
  rowId: string;
  id: string;
  from: string;
  text: string;
}

/** The agent room a sender's messages go to: a fixed assignment, as a routed conversation has. */
const agentOf = (from: string, agents: number) => Number(from) % agents;

async function serve(): Promise<void> {
  const env = process.env;
  const agents = Number(env.BASELINE_AGENTS ?? 1);
  const prefix = env.BASELINE_PREFIX ?? 'baseline';
  const sql = postgres(env.BASELINE_DATABASE_URL as string, { max: 10, onnotice: () => undefined });
  await sql`create table if not exists baseline_messages (
    id bigserial primary key, client_id text not null, sender text not null, body text not null,
    received_at timestamptz not null default now())`;
  const queue = new Queue<BaselineMessage>(QUEUE, { connection: new Redis(env.BASELINE_REDIS_URL as string, { maxRetriesPerRequest: null }), prefix });

  const app = express();
  app.use(express.json());
  app.get('/ready', (_req, res) => void res.json({ ok: true }));
  app.post('/m', async (req, res) => {
    const { id, from, text } = req.body as { id: string; from: string; text: string };
    const [row] = await sql<Array<{ id: string }>>`insert into baseline_messages (client_id, sender, body) values (${id}, ${from}, ${text}) returning id`;
    const rowId = row!.id;
    await queue.add('m', { rowId, id, from, text }, { ...KEEP, jobId: `m-${rowId}` });
    res.json({ ok: true, rowId });
  });
  const server = http.createServer(app);
  // The load generator keeps its connections open between runs: a server closing an idle one just as
  // the client reuses it (Node's 5 s default) would refuse a message that never reached the baseline.
  server.keepAliveTimeout = 10 * 60_000;
  const ioServer = new Server(server, { serveClient: false });
  ioServer.on('connection', (socket) => void socket.join(`agent:${String(socket.handshake.auth.agent)}`));
  const worker = new Worker<BaselineMessage>(
    QUEUE,
    async (job) => {
      ioServer.to(`agent:${agentOf(job.data.from, agents)}`).emit('message:new', job.data);
    },
    { connection: new Redis(env.BASELINE_REDIS_URL as string, { maxRetriesPerRequest: null }), prefix, concurrency: Number(env.BASELINE_CONCURRENCY ?? 16) },
  );
  await new Promise<void>((resolve) => server.listen(Number(env.BASELINE_PORT), '127.0.0.1', resolve));
  process.once('SIGTERM', () => {
    void (async () => {
      ioServer.close();
      await worker.close();
      await queue.close();
      await sql.end();
      process.exit(0);
    })();
  });
}

/** The bench side of the baseline: agent sockets receiving, and an HTTP sender. */
export interface BaselineClients {
  sender: Sender;
  close(): void;
}

/**
 * Connects `agents` receivers (one room each) and returns a sender that
 * POSTs over keep-alive connections, spreading messages over `senders`
 * sender numbers. Every receipt goes to `onReceive`.
 */
export async function connectBaseline(
  url: string,
  agents: number,
  senders: number,
  onReceive: (text: string, at: number) => void,
): Promise<BaselineClients> {
  const sockets: Socket[] = [];
  for (let k = 0; k < agents; k++) {
    const socket = io(url, { auth: { agent: k }, transports: ['websocket'], forceNew: true });
    socket.on('message:new', (m: BaselineMessage) => onReceive(m.text, performance.now()));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    sockets.push(socket);
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const { hostname, port } = new URL(url);
  const sender: Sender = {
    trySend(seq, text, onAck) {
      const index = seq % senders;
      const body = JSON.stringify({ id: `${Tracker.parse(text)?.tag}-${seq}`, from: String(15550000000 + index), text });
      const req = http.request(
        { agent, hostname, port, path: '/m', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => onAck(res.statusCode === 200, res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
        },
      );
      req.on('error', (err) => onAck(false, err.message));
      req.end(body);
      return index;
    },
    msUntilReady: () => 1,
  };
  return {
    sender,
    close() {
      for (const s of sockets) s.disconnect();
      agent.destroy();
    },
  };
}

/** Rows stored per client id of a run: exactly once means one each. */
export async function checkBaselineStore(sql: postgres.Sql, tracker: Tracker): Promise<{ stored: Set<number>; duplicateRows: number }> {
  const rows = await sql<Array<{ id: string; n: number }>>`
    select client_id as id, count(*)::int as n from baseline_messages where client_id like ${`${tracker.tag}-%`} group by client_id`;
  const stored = new Set<number>();
  let duplicateRows = 0;
  for (const row of rows) {
    const seq = tracker.seqOf(row.id);
    if (seq !== undefined) stored.add(seq);
    duplicateRows += row.n - 1;
  }
  return { stored, duplicateRows };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  serve().catch((err: unknown) => {
    process.stderr.write(`baseline: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
