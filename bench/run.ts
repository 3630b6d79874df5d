/**
 * `npm run bench`: Lifeline against a raw baseline on the same PostgreSQL
 * and Redis, side by side, in one run.
 *
 * - Baseline (bench/baseline.ts, a child process): HTTP POST -> INSERT ->
 *   BullMQ add -> Worker -> Socket.IO emit to the agent's room.
 * - Lifeline (src/main.ts, a child process, services mode): web chat
 *   `message:send` on /citizen and SMPP submit_sm on a server-mode link ->
 *   ingest (dedupe, conversation, message + outbox in one transaction,
 *   enqueue) -> routing worker -> `message:new` on the assigned agent's
 *   /agent socket. Every conversation is accepted by an agent first (agents
 *   have spare capacity), so the measured messages take the steady-state
 *   path of an assigned conversation: what is measured is ingest -> console
 *   push of message:new, not the offer/accept of new conversations (the
 *   burst measures that).
 *
 * Each path: a closed-loop warm-up, a paced run at a fixed offered rate
 * (1,000 msg/s by default; latency counts from the intended send time) and
 * a saturated closed loop with N in flight. The load generator and the
 * receivers run in this process and share one clock; the servers run in
 * child processes, so the RSS printed is the server's alone. RSS of the
 * gateway is read before and after 100,000 messages. Then a burst of
 * 10,000 SMPP texts from 5,000 senders is checked in SQL (bench/burst.ts).
 * Exits 1 if any message was lost, duplicated or the burst failed a check.
 *
 *   npm run bench                       the full run
 *   BENCH_SCALE=0.05 npm run bench      the smoke run (under a minute)
 *   npm run bench -- --help
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { loadConfig } from '../src/config.ts';
import { ADMIN_PASSWORD, login } from '../test/support/gateway.ts';
import { createTestDatabase } from '../test/support/db.ts';
import { freePort } from '../test/support/kannel.ts';
import { ADMIN_DATABASE_URL, ensureServices, REDIS_URL } from '../test/support/services.ts';
import { connectBaseline } from './baseline.ts';
import { burstProblems, formatBurst, runBurst, type BurstResult } from './burst.ts';
import { citizenSender, onAgentMessages, setFleetPresence, setUpFleet } from './fleet.ts';
import { runClosed, runPaced, type Limits, type RunResult, type Sender } from './harness.ts';
import { readOptions, type BenchOptions } from './options.ts';
import { formatReports, formatSideBySide, problems, type RunReport } from './report.ts';
import { machineCpu, postgresCpu, spawnServer, type ServerProcess } from './server-process.ts';
import { setUpSmpp, smppSender } from './smpp.ts';
import { Tracker } from './tracker.ts';
import { checkStore, perMessage, readCounters, type MessageTable } from './verify.ts';

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const log = (line: string) => console.log(line);
const loadAverage = () => os.loadavg().map((v) => v.toFixed(1)).join(' ');
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** One server under test and what the runs against it share. */
interface Target {
  server: ServerProcess;
  sql: postgres.Sql;
  table: MessageTable;
  redis: Redis;
  trackers: Map<string, Tracker>;
  limits: Limits;
  reports: RunReport[];
  /** CPU ms so far of the PostgreSQL cluster's processes. */
  postgresCpu: () => number;
}

/** Routes a received text to its run's tracker. */
function receiveInto(trackers: Map<string, Tracker>, body: string, at: number): void {
  const parsed = Tracker.parse(body);
  if (parsed) trackers.get(parsed.tag)?.recordReceive(parsed.seq, body, at);
}

function newTracker(target: Target, name: string, capacity: number): Tracker {
  const tracker = new Tracker(`${name}${randomBytes(3).toString('hex')}`, capacity);
  target.trackers.set(tracker.tag, tracker);
  return tracker;
}

/** Runs one load shape and records its report: stored rows, work per message, CPU of each side. */
async function measure(target: Target, execute: () => Promise<RunResult>): Promise<RunResult> {
  const before = await readCounters(target.sql, target.redis);
  const started = performance.now();
  const loop = monitorEventLoopDelay({ resolution: 2 });
  loop.enable();
  const benchCpu = process.cpuUsage();
  const serverCpu = target.server.cpuMs();
  const pgCpu = target.postgresCpu();
  const machine = machineCpu();
  const run = await execute();
  const wall = performance.now() - started;
  const busy = machine();
  const serverCpuMs = target.server.cpuMs() - serverCpu;
  const postgresCpuMs = target.postgresCpu() - pgCpu;
  const used = process.cpuUsage(benchCpu);
  loop.disable();
  const store = await checkStore(target.sql, target.table, run.tracker);
  const after = await readCounters(target.sql, target.redis);
  const report: RunReport = {
    run,
    store,
    work: perMessage(before, after, run.tracker.sent),
    host: {
      serverCores: serverCpuMs / wall,
      serverCpuMs,
      postgresCpuMs,
      benchCores: (used.user + used.system) / 1000 / wall,
      machineBusy: busy,
      // The histogram holds whole timer intervals: the delay is what exceeds the interval.
      loopDelayP99: Math.max(0, loop.percentile(99) / 1e6 - 2),
    },
  };
  target.reports.push(report);
  const verdict = problems(report);
  log(`  ${run.path}, ${run.label}: ${run.tracker.sent} messages in ${(wall / 1000).toFixed(1)} s${verdict.length ? ` - ${verdict.join('; ')}` : ''}`);
  return run;
}

/** The three load shapes on one path: warm-up, paced, saturated. */
async function loadPath(target: Target, o: BenchOptions, path: string, sender: Sender, inFlight: number, limit = ''): Promise<void> {
  const name = path.replace(/\W/g, '');
  if (o.warmupMessages > 0) {
    await measure(target, () => runClosed(path, sender, newTracker(target, `${name}warm`, o.warmupMessages), 'warm-up, 16 in flight', 16, 60, target.limits));
  }
  const paced = Math.round(o.rate * o.seconds);
  for (let round = 1; round <= o.pacedRounds; round++) {
    const label = `paced ${o.rate}/s for ${o.seconds} s${o.pacedRounds > 1 ? `, round ${round}` : ''}`;
    await measure(target, () => runPaced(path, sender, newTracker(target, `${name}paced${round}`, paced), label, o.rate, o.seconds, target.limits));
  }
  if (o.saturationMessages > 0) {
    await measure(target, () =>
      runClosed(path, sender, newTracker(target, `${name}sat`, o.saturationMessages), `saturated, ${inFlight} in flight${limit}`, inFlight, o.saturationSeconds, target.limits),
    );
  }
}

/** Removes a run's BullMQ keys: a bench leaves thousands of finished jobs behind. */
async function deleteQueueKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Cleanup steps run on the way out, also on SIGINT. */
const cleanups: Array<() => Promise<void>> = [];
/** Runs the cleanups registered after `mark` (all of them by default), newest first. */
async function cleanUp(mark = 0): Promise<void> {
  while (cleanups.length > mark) await cleanups.pop()!().catch((err: unknown) => log(`cleanup failed: ${String(err)}`));
}

/** The web chat client id of a bench text: `<tag>-<seq>`. */
const webClientId = (text: string) => {
  const parsed = Tracker.parse(text);
  return `${parsed?.tag}-${parsed?.seq}`;
};

interface SideResult {
  reports: RunReport[];
  memory: string[];
  burst?: BurstResult;
}

async function benchBaseline(o: BenchOptions, redis: Redis): Promise<SideResult> {
  const t0 = performance.now();
  const mark = cleanups.length;
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const prefix = `bench-baseline-${randomBytes(4).toString('hex')}`;
  cleanups.push(() => deleteQueueKeys(redis, prefix));
  const port = await freePort();
  const server = await spawnServer({
    entry: 'bench/baseline.ts',
    env: {
      BASELINE_DATABASE_URL: database.url,
      BASELINE_REDIS_URL: REDIS_URL,
      BASELINE_PREFIX: prefix,
      BASELINE_PORT: String(port),
      BASELINE_AGENTS: String(o.agents),
      BASELINE_CONCURRENCY: String(o.workerConcurrency),
    },
    port,
    readyPath: '/ready',
  });
  cleanups.push(() => server.stop());
  const sql = postgres(database.url, { max: 2, onnotice: () => undefined });
  cleanups.push(() => sql.end());
  const target: Target = { server, sql, table: 'baseline_messages', redis, trackers: new Map(), limits: limits(o), reports: [], postgresCpu: await postgresCpu(sql) };
  const clients = await connectBaseline(server.url, o.agents, o.citizens, (text, at) => receiveInto(target.trackers, text, at));
  cleanups.push(async () => clients.close());
  const memory = [`started ${mb(server.rss())}`];
  log(`baseline: pid ${server.pid} on ${server.url}, database ${database.name}, prefix ${prefix}, ${o.agents} agent sockets, ${o.citizens} sender numbers; ready in ${seconds(t0)}`);
  await loadPath(target, o, 'baseline', clients.sender, o.inFlight);
  const sent = target.reports.reduce((sum, r) => sum + r.run.tracker.sent, 0);
  memory.push(`after ${sent.toLocaleString('en')} messages ${mb(server.rss())}`);
  await cleanUp(mark);
  return { reports: target.reports, memory };
}

function limits(o: BenchOptions): Limits {
  return { maxBacklog: o.maxBacklog, maxWaitMs: o.maxWaitMs, idleMs: o.drainMs };
}

async function benchLifeline(o: BenchOptions, redis: Redis): Promise<SideResult> {
  const t0 = performance.now();
  const mark = cleanups.length;
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  cleanups.push(() => deleteQueueKeys(redis, prefix));
  const port = await freePort();
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL,
    HOST: '127.0.0.1',
    PORT: String(port),
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: o.logLevel,
    ADMIN_PASSWORD,
    WORKER_CONCURRENCY: String(o.workerConcurrency),
    // The gateway's own default unless the caller set it: printed with the rest.
    ROUTING_WORKERS: process.env.ROUTING_WORKERS ?? String(loadConfig({}).routingWorkers),
    OUTBOX_SWEEP_INTERVAL_MS: '2000',
    OUTBOX_STALE_MS: '5000',
  };
  const server = await spawnServer({
    entry: 'src/main.ts',
    env,
    port,
    readyPath: '/readyz',
    nodeArgs: o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : [],
  });
  cleanups.push(() => server.stop());
  const sql = postgres(database.url, { max: 2, onnotice: () => undefined });
  cleanups.push(() => sql.end());
  const target: Target = { server, sql, table: 'messages', redis, trackers: new Map(), limits: limits(o), reports: [], postgresCpu: await postgresCpu(sql) };
  const memory = [`started ${mb(server.rss())}`];
  log(
    `lifeline: gateway pid ${server.pid} on ${server.url} (services mode; ${['LOG_LEVEL', 'WORKER_CONCURRENCY', 'ROUTING_WORKERS', 'OUTBOX_SWEEP_INTERVAL_MS', 'OUTBOX_STALE_MS'].map((k) => `${k}=${env[k as keyof typeof env]}`).join(' ')}), ` +
      `database ${database.name}, prefix ${prefix}; ready in ${seconds(t0)}${o.profileDir ? `; CPU profile into ${o.profileDir}` : ''}`,
  );

  const t1 = performance.now();
  const fleet = await setUpFleet(server, o.agents, o.citizens);
  cleanups.push(async () => fleet.close());
  const stopListening = onAgentMessages(fleet, (message, at) => {
    if (message.direction === 'inbound') receiveInto(target.trackers, message.body, at);
  });
  const admin = await login(server, 'admin', ADMIN_PASSWORD);
  const esme = await setUpSmpp(server, sql, admin, o.smppCitizens);
  cleanups.push(async () => esme.close());
  log(`  set-up in ${seconds(t1)}: ${o.agents} agents (capacity 50), ${o.citizens} web chat citizens and ${o.smppCitizens} SMPP senders, each with an accepted conversation`);
  log(`  ${fleet.timings}`);
  memory.push(`after set-up ${mb(server.rss())}`);

  await loadPath(target, o, 'web chat', citizenSender(fleet.citizens, webClientId), o.inFlight);
  // Like the other paths, up to inFlight messages not yet at an agent; the carrier's window limits only
  // the submit_sm not yet answered (the answer comes after commit and enqueue), as on a real SMPP link.
  await loadPath(target, o, 'SMPP', smppSender(esme, o.smppCitizens, o.smppWindow), o.inFlight, `, window ${o.smppWindow}`);
  const sent = () => target.reports.reduce((sum, r) => sum + r.run.tracker.sent, 0);
  const missing = o.rssMessages - sent();
  if (missing > 0) {
    await measure(target, () =>
      runClosed('web chat', citizenSender(fleet.citizens, webClientId), newTracker(target, 'topup', missing), `top-up to ${o.rssMessages} for the RSS reading, ${o.inFlight} in flight`, o.inFlight, 600, target.limits),
    );
  }
  memory.push(`after ${sent().toLocaleString('en')} messages ${mb(server.rss())}`);
  stopListening();

  let burst: BurstResult | undefined;
  if (o.burstTexts > 0) {
    const t2 = performance.now();
    burst = await runBurst(server, sql, admin, esme, () => setFleetPresence(fleet, 'away'), { texts: o.burstTexts, senders: o.burstSenders, window: o.smppWindow, idleMs: o.drainMs }, log);
    log(`  burst done in ${seconds(t2)}`);
    memory.push(`after the burst ${mb(server.rss())}`);
  }
  await cleanUp(mark);
  return { reports: target.reports, memory, burst };
}

/** The PostgreSQL settings that move the figures: autovacuum off leaves dead rows to Lifeline's own vacuum (VACUUM_DEAD_ROWS). */
async function describePostgres(): Promise<string> {
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => undefined });
  try {
    const rows = await admin<{ name: string; setting: string }[]>`
      select name, current_setting(name) as setting from pg_settings
       where name in ('server_version', 'shared_buffers', 'synchronous_commit', 'fsync', 'autovacuum', 'autovacuum_naptime') order by name`;
    return `PostgreSQL: ${rows.map((r) => `${r.name} ${r.setting}`).join(', ')}`;
  } finally {
    await admin.end();
  }
}

async function main(): Promise<number> {
  const o = readOptions(process.argv.slice(2), process.env);
  await ensureServices();
  const started = performance.now();
  log(`node ${process.version}, ${os.cpus().length} cores, load average (1/5/15 min) ${loadAverage()} at start`);
  log(await describePostgres());
  log(
    `load: scale ${o.scale}; per path ${o.warmupMessages} warm-up messages (16 in flight), ${o.pacedRounds} x paced ${o.rate} msg/s for ${o.seconds} s ` +
      `(stopped past ${o.maxBacklog} unseen or a ${o.maxWaitMs} ms wait), saturated ${o.saturationMessages} messages ` +
      `(${o.inFlight} in flight, SMPP also at most ${o.smppWindow} submit_sm unanswered; at most ${o.saturationSeconds} s); ` +
      `RSS across ${o.rssMessages} messages; burst ${o.burstTexts} texts from ${o.burstSenders} senders; ` +
      `lost = unaccounted for after ${o.drainMs} ms without progress`,
  );
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  cleanups.push(async () => redis.disconnect());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  let baseline: SideResult | undefined;
  let lifeline: SideResult | undefined;
  try {
    if (o.only !== 'lifeline') baseline = await benchBaseline(o, redis);
    if (o.only !== 'baseline') lifeline = await benchLifeline(o, redis);
  } finally {
    await cleanUp();
  }
  const reports = [...(baseline?.reports ?? []), ...(lifeline?.reports ?? [])];
  const measured = (side: SideResult | undefined) => side?.reports.filter((r) => !r.run.label.startsWith('warm-up') && !r.run.label.startsWith('top-up')).map((r) => r.run) ?? [];
  const base = measured(baseline);
  log('');
  log(
    formatSideBySide(
      { saturated: base.find((r) => r.offeredRate === null), paced: base.filter((r) => r.offeredRate !== null) },
      measured(lifeline),
    ),
  );
  log('');
  log(formatReports(reports));
  if (lifeline?.burst) {
    log('');
    log(formatBurst(lifeline.burst));
  }
  log('');
  if (baseline) log(`RSS of the baseline server process: ${baseline.memory.join(', ')}`);
  if (lifeline) log(`RSS of the Lifeline gateway process (child, /proc VmRSS): ${lifeline.memory.join(', ')}`);
  log(`load average (1/5/15 min) at the end: ${loadAverage()}; whole run ${seconds(started)}`);
  const failed = [
    ...reports.filter((r) => problems(r).length > 0).map((r) => `${r.run.path}: ${r.run.label}`),
    ...(lifeline?.burst && burstProblems(lifeline.burst).length > 0 ? ['burst'] : []),
  ];
  log(failed.length === 0 ? 'PASS: every message reached its agent exactly once and was stored exactly once; the burst was stored, routed and offered in priority order' : `FAIL: ${failed.join(', ')}`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    void cleanUp().finally(() => process.exit(1));
  },
);
