/**
 * Benchmark settings from CLI flags, then BENCH_* environment variables,
 * then defaults sized to finish in well under two minutes on a 2-core box.
 */
import { parseArgs } from 'node:util';

/** The web chat's per-socket token bucket (adapters/webchat/index.ts). */
export const CITIZEN_RATE_LIMIT = { perSecond: 5, burst: 20 } as const;
/** The admin API's largest agent capacity (src/http/schemas.ts). */
export const MAX_AGENT_CAPACITY = 50;

export interface BenchOptions {
  /** Offered load of the paced run, messages per second. */
  rate: number;
  /** Length of the paced run. */
  seconds: number;
  /** Messages of the closed-loop warm-up (16 in flight) before the paced run; 0 skips it. */
  warmupMessages: number;
  /** Citizen sockets, each with one active conversation. */
  citizens: number;
  /** Agent sockets; each takes up to MAX_AGENT_CAPACITY conversations. */
  agents: number;
  /** Messages in the saturation run (0 skips it). */
  saturationMessages: number;
  /** Time limit on sending in the saturation run. */
  saturationSeconds: number;
  /** Bound on messages sent but not yet seen by an agent in the saturation run. */
  inFlight: number;
  /** The gateway's WORKER_CONCURRENCY. */
  workerConcurrency: number;
  /** Paced run: stop offering once this many messages are unseen (the gateway fell behind). */
  maxBacklog: number;
  /** Paced run: stop offering once the oldest unseen message waited this long (ms). */
  maxWaitMs: number;
  /** After sending, how long without any progress before the rest count as lost (ms). */
  drainMs: number;
  /** The gateway's LOG_LEVEL (its pino logs go to stdout). */
  logLevel: string;
}

const FLAGS = {
  rate: { env: 'BENCH_RATE', fallback: 500, min: 1, max: 20_000 },
  seconds: { env: 'BENCH_SECONDS', fallback: 10, min: 1, max: 600 },
  warmup: { env: 'BENCH_WARMUP', fallback: 200, min: 0, max: 100_000 },
  citizens: { env: 'BENCH_CITIZENS', fallback: 0, min: 0, max: 5_000 },
  agents: { env: 'BENCH_AGENTS', fallback: 0, min: 0, max: 200 },
  messages: { env: 'BENCH_MESSAGES', fallback: 5_000, min: 0, max: 1_000_000 },
  'sat-seconds': { env: 'BENCH_SAT_SECONDS', fallback: 15, min: 1, max: 600 },
  inflight: { env: 'BENCH_INFLIGHT', fallback: 256, min: 1, max: 10_000 },
  concurrency: { env: 'BENCH_CONCURRENCY', fallback: 64, min: 1, max: 200 },
  'max-backlog': { env: 'BENCH_MAX_BACKLOG', fallback: 0, min: 0, max: 1_000_000 },
  'max-wait': { env: 'BENCH_MAX_WAIT_MS', fallback: 5_000, min: 100, max: 600_000 },
  drain: { env: 'BENCH_DRAIN_MS', fallback: 10_000, min: 500, max: 600_000 },
} as const;

type FlagName = keyof typeof FLAGS;

const USAGE = `usage: npm run bench -- [flags]        (every flag also reads the BENCH_* variable shown)
  --rate N          paced run: offered load, messages/s                     500  BENCH_RATE
  --seconds N       paced run: length                                        10  BENCH_SECONDS
  --warmup N        closed-loop warm-up messages (16 in flight), 0 skips    200  BENCH_WARMUP
  --messages N      saturation run: messages, 0 skips                      5000  BENCH_MESSAGES
  --sat-seconds N   saturation run: time limit on sending                    15  BENCH_SAT_SECONDS
  --inflight N      saturation run: messages in flight                      256  BENCH_INFLIGHT
  --citizens N      citizen sockets          default max(200, rate/4, inflight)  BENCH_CITIZENS
  --agents N        agent sockets, capacity ${MAX_AGENT_CAPACITY} each    default enough + 1  BENCH_AGENTS
  --concurrency N   the gateway's WORKER_CONCURRENCY                         64  BENCH_CONCURRENCY
  --max-backlog N   paced run: stop offering past N unseen messages  default rate x 1 s  BENCH_MAX_BACKLOG
  --max-wait MS     paced run: stop offering once a message waited MS      5000  BENCH_MAX_WAIT_MS
  --drain MS        count the rest lost after MS without progress         10000  BENCH_DRAIN_MS
  --log-level L     the gateway's LOG_LEVEL                              silent  BENCH_LOG_LEVEL`;

function read(name: FlagName, cli: string | undefined, env: NodeJS.ProcessEnv): number {
  const spec = FLAGS[name];
  const raw = cli ?? env[spec.env];
  if (raw === undefined || raw === '') return spec.fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < spec.min || value > spec.max) {
    throw new Error(`--${name} (${spec.env}) must be a number from ${spec.min} to ${spec.max}, not ${JSON.stringify(raw)}\n${USAGE}`);
  }
  return value;
}

/** Parses argv and the environment; prints usage and exits on --help. */
export function readOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const }])),
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const given = values as Record<string, string | boolean | undefined>;
  const get = (name: FlagName) => {
    const v = given[name];
    return read(name, typeof v === 'string' ? v : undefined, env);
  };
  const int = (name: FlagName) => Math.floor(get(name));
  const rate = get('rate');
  const inFlight = int('inflight');
  // Each citizen may send 5/s: keep the paced run at 4/s per socket or less, and
  // give the saturation run at least one citizen per in-flight message.
  const citizens = int('citizens') || Math.max(200, Math.ceil(rate / 4), inFlight);
  if (rate > citizens * CITIZEN_RATE_LIMIT.perSecond) {
    throw new Error(`--rate ${rate} needs at least ${Math.ceil(rate / CITIZEN_RATE_LIMIT.perSecond)} citizens (5 messages/s each), not ${citizens}`);
  }
  const neededAgents = Math.ceil(citizens / MAX_AGENT_CAPACITY);
  // One agent more than needed, so agents keep free capacity as in a staffed PSAP.
  const agents = int('agents') || neededAgents + 1;
  if (agents < neededAgents) throw new Error(`${citizens} citizens need at least ${neededAgents} agents of capacity ${MAX_AGENT_CAPACITY}`);
  const logLevel = given['log-level'];
  return {
    rate,
    seconds: get('seconds'),
    warmupMessages: int('warmup'),
    citizens,
    agents,
    saturationMessages: int('messages'),
    saturationSeconds: get('sat-seconds'),
    inFlight,
    workerConcurrency: int('concurrency'),
    maxBacklog: int('max-backlog') || Math.max(100, Math.ceil(rate)),
    maxWaitMs: get('max-wait'),
    drainMs: get('drain'),
    logLevel: (typeof logLevel === 'string' ? logLevel : env.BENCH_LOG_LEVEL) || 'silent',
  };
}
