/**
 * `npm run bench`: Lifeline's web-chat path from a citizen's `message:send`
 * on `/citizen` through ingest (commit + outbox), the BullMQ routing job and
 * the console push, to the assigned agent's `message:new` on `/agent`.
 *
 * One process hosts a real gateway (its own database on the local
 * PostgreSQL, its own BullMQ prefix on the local Redis) and all the clients,
 * so both ends read the same clock. Every citizen's conversation is accepted
 * by an agent first; then a closed-loop warm-up, a paced run at a fixed
 * offered rate (stopped early, and reported as not sustained, once the
 * gateway falls clearly behind) and a saturation run with a bounded number of
 * messages in flight. Checks that every message reached its agent exactly
 * once and was stored exactly once; exits 1 if not. Then the SMPP bench
 * (bench/smpp.ts) on a gateway of its own.
 *
 *   npm run bench -- --rate 1000 --seconds 10     (see --help)
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { startTestGateway, type TestGateway } from '../test/support/gateway.ts';
import { ensureServices, REDIS_URL } from '../test/support/services.ts';
import { onAgentMessages, setUpFleet, type Fleet } from './fleet.ts';
import { runClosed, runPaced, type RunResult } from './load.ts';
import { readOptions, type BenchOptions } from './options.ts';
import { formatSmppRuns, runSmppBench, smppProblems, type SmppRun } from './smpp.ts';
import { formatReports, percentile, problems, type HostLoad, type RunReport } from './report.ts';
import { Tracker } from './tracker.ts';
import { checkStore, perMessage, readCounters, type ServerCounters } from './verify.ts';

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const log = (line: string) => console.log(line);

const LOOP_SAMPLE_MS = 2;

/** Starts watching this process's CPU use and event-loop delay; call the result to stop. */
function watchHost(): () => HostLoad {
  const loop = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loop.enable();
  const cpu = process.cpuUsage();
  const started = performance.now();
  return () => {
    loop.disable();
    const used = process.cpuUsage(cpu);
    // The histogram holds whole timer intervals: the delay is what exceeds the interval.
    const late = (ns: number) => Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS);
    const cpuMs = (used.user + used.system) / 1000;
    return {
      cpuCores: cpuMs / (performance.now() - started),
      cpuMs,
      loopDelayP50: late(loop.percentile(50)),
      loopDelayP99: late(loop.percentile(99)),
      loopDelayMax: late(loop.max),
    };
  };
}

const loadAverage = () => os.loadavg().map((v) => v.toFixed(1)).join(' ');

function memory(label: string): string {
  const m = process.memoryUsage();
  return `${label}: rss ${mb(m.rss)}, heap used ${mb(m.heapUsed)}`;
}

/** Median and 99th percentile of `count` sequential calls, in ms: the idle cost of one round trip. */
async function roundTrip(count: number, call: () => Promise<unknown>): Promise<string> {
  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await call();
    times[i] = performance.now() - t;
  }
  times.sort();
  return `p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms`;
}

async function measure(
  gateway: TestGateway,
  redis: Redis,
  before: ServerCounters,
  execute: () => Promise<RunResult>,
): Promise<{ report: RunReport; after: ServerCounters }> {
  const started = performance.now();
  const stopWatching = watchHost();
  const run = await execute();
  const host = stopWatching();
  const store = await checkStore(gateway, run.tracker);
  const after = await readCounters(gateway, redis);
  const report = { run, store, work: perMessage(before, after, run.tracker.sent), host };
  const verdict = problems(report);
  log(`  ${run.label}: ${run.tracker.sent} messages in ${((performance.now() - started) / 1000).toFixed(1)} s${verdict.length ? ` - ${verdict.join('; ')}` : ''}`);
  return { report, after };
}

interface BenchResult {
  reports: RunReport[];
  memoryBefore: string;
  memoryAfter: string;
}

async function bench(options: BenchOptions, gateway: TestGateway, redis: Redis): Promise<BenchResult> {
  let fleet: Fleet | undefined;
  try {
    const setupStart = performance.now();
    fleet = await setUpFleet(gateway, options.agents, options.citizens);
    log(`set-up: ${options.agents} agents (capacity 50) online, ${options.citizens} citizens with an accepted conversation each, in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);
    log(`  ${fleet.timings}`);

    const trackers = new Map<string, Tracker>();
    const stopListening = onAgentMessages(fleet, (message, at) => {
      const id = message.clientMessageId;
      if (message.direction !== 'inbound' || id === null) return;
      trackers.get(id.slice(0, id.lastIndexOf('-')))?.recordReceive(message, at);
    });
    const tracker = (name: string, capacity: number) => {
      const t = new Tracker(`${name}${randomBytes(3).toString('hex')}`, capacity);
      trackers.set(t.tag, t);
      return t;
    };

    log(`idle round trips: PostgreSQL select 1 ${await roundTrip(300, () => gateway.store.sql`select 1`)}; Redis PING ${await roundTrip(300, () => redis.ping())}`);
    const memoryBefore = memory('before runs');
    log(`memory ${memoryBefore}`);
    const reports: RunReport[] = [];
    let counters = await readCounters(gateway, redis);
    const f = fleet;
    const limits = { maxBacklog: options.maxBacklog, maxWaitMs: options.maxWaitMs, idleMs: options.drainMs };
    const plan: Array<() => Promise<RunResult>> = [];
    if (options.warmupMessages > 0) {
      plan.push(() => runClosed(f, tracker('warm', options.warmupMessages), 'warm-up, 16 in flight', 16, 60, limits));
    }
    const paced = Math.round(options.rate * options.seconds);
    plan.push(() => runPaced(f, tracker('paced', paced), `paced ${options.seconds} s`, options.rate, options.seconds, limits));
    if (options.saturationMessages > 0) {
      plan.push(() =>
        runClosed(f, tracker('sat', options.saturationMessages), `saturation, ${options.inFlight} in flight`, options.inFlight, options.saturationSeconds, limits),
      );
    }
    for (const execute of plan) {
      const { report, after } = await measure(gateway, redis, counters, execute);
      reports.push(report);
      counters = after;
    }
    stopListening();
    const memoryAfter = memory('after runs');
    log(`load average (1/5/15 min) after runs: ${loadAverage()}`);
    return { reports, memoryBefore, memoryAfter };
  } finally {
    fleet?.close();
  }
}

/** Removes the run's BullMQ keys: a bench leaves thousands of finished jobs behind. */
async function deleteQueueKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), process.env);
  await ensureServices();
  log(memory('memory at start'));
  const env = {
    LOG_LEVEL: options.logLevel,
    WORKER_CONCURRENCY: String(options.workerConcurrency),
    // Production defaults rather than the test helper's fast sweeper, so the
    // sweeper does not re-enqueue routing jobs that are merely queued.
    OUTBOX_SWEEP_INTERVAL_MS: '2000',
    OUTBOX_STALE_MS: '5000',
  };
  log(`node ${process.version}, ${os.cpus().length} cores, load average (1/5/15 min) ${loadAverage()}; gateway env ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  log(
    `load: ${options.warmupMessages} warm-up messages; paced ${options.rate} msg/s for ${options.seconds} s ` +
      `(stop offering past ${options.maxBacklog} unseen or a ${options.maxWaitMs} ms wait); ` +
      `saturation ${options.saturationMessages} messages, ${options.inFlight} in flight, at most ${options.saturationSeconds} s; ` +
      `lost = unaccounted for after ${options.drainMs} ms without progress`,
  );
  const gateway = await startTestGateway(env);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await gateway.destroy();
      await deleteQueueKeys(redis, gateway.config.queuePrefix);
    })());
  // An interrupted run still drops its database and queue keys.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  let result: BenchResult;
  try {
    log(`gateway ${gateway.url}, database ${gateway.database.name}, queue prefix ${gateway.config.queuePrefix}`);
    log(memory('memory with gateway started'));
    result = await bench(options, gateway, redis);
  } finally {
    await cleanUp();
  }
  const smpp: SmppRun[] = await runSmppBench({
    env,
    texts: Number(process.env.BENCH_SMPP_TEXTS ?? 2000),
    windows: [10, 50],
    citizens: 20,
    drainMs: options.drainMs,
    cleanUp: (g) => deleteQueueKeys(redis, g.config.queuePrefix),
    log,
  });
  redis.disconnect();
  const { reports } = result;
  log('');
  log(formatReports(reports));
  log('');
  log(formatSmppRuns(smpp));
  log('');
  log(`memory of this process (gateway and clients): ${result.memoryBefore}; ${result.memoryAfter}`);
  const failed = [...reports.filter((r) => problems(r).length > 0).map((r) => r.run.label), ...smpp.filter((r) => smppProblems(r).length > 0).map((r) => `smpp window ${r.window}`)];
  log(failed.length === 0 ? 'PASS: every message reached its agent exactly once and was stored exactly once' : `FAIL: ${failed.join(', ')}`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
