/**
 * Benchmark settings from CLI flags, then BENCH_* environment variables,
 * then defaults for the full run. BENCH_SCALE (--scale) shrinks every
 * count and duration: `BENCH_SCALE=0.05 npm run bench` is the smoke run.
 */
import { parseArgs } from 'node:util';

/** The web chat's per-socket token bucket (adapters/webchat/index.ts). */
export const CITIZEN_RATE_LIMIT = { perSecond: 5, burst: 20 } as const;
/** The admin API's largest agent capacity (src/http/schemas.ts). */
export const MAX_AGENT_CAPACITY = 50;

export interface BenchOptions {
  /** Multiplier applied to the counts and durations below (already applied). */
  scale: number;
  /** Offered load of the paced runs, messages per second. */
  rate: number;
  /** Length of each paced run. */
  seconds: number;
  /** Messages of each path's closed-loop warm-up (16 in flight); 0 skips it. */
  warmupMessages: number;
  /** Web chat citizen sockets, each with one active conversation. */
  citizens: number;
  /** SMPP senders, each with one active conversation. */
  smppCitizens: number;
  /** Agent sockets; each takes up to MAX_AGENT_CAPACITY conversations. */
  agents: number;
  /** Messages in each saturation run (0 skips them). */
  saturationMessages: number;
  /** Time limit on sending in a saturation run. */
  saturationSeconds: number;
  /** Saturation runs (web chat, baseline): messages in flight. */
  inFlight: number;
  /** SMPP: submit_sm outstanding (unanswered) at most. */
  smppWindow: number;
  /** The servers' worker concurrency (Lifeline's WORKER_CONCURRENCY, the baseline Worker's). */
  workerConcurrency: number;
  /** Messages through Lifeline's gateway between the two RSS readings (topped up with web chat). */
  rssMessages: number;
  /** Burst: texts and distinct senders (0 texts skips it). */
  burstTexts: number;
  burstSenders: number;
  /** Paced runs per path; the side by side compares the medians of their p50 and p99. */
  pacedRounds: number;
  /** Paced run: stop offering once this many messages are unseen (the server fell behind). */
  maxBacklog: number;
  /** Paced run: stop offering once the oldest unseen message waited this long (ms). */
  maxWaitMs: number;
  /** After sending, how long without any progress before the rest count as lost (ms). */
  drainMs: number;
  /** Which servers to measure. */
  only: 'all' | 'baseline' | 'lifeline';
  /** Run Lifeline's gateway with --cpu-prof into this directory. */
  profileDir: string | undefined;
  /** The gateway's LOG_LEVEL. */
  logLevel: string;
}

const FLAGS = {
  scale: { env: 'BENCH_SCALE', fallback: 1, min: 0.001, max: 10, scaled: false },
  rate: { env: 'BENCH_RATE', fallback: 1000, min: 1, max: 20_000, scaled: false },
  seconds: { env: 'BENCH_SECONDS', fallback: 20, min: 1, max: 600, scaled: true },
  rounds: { env: 'BENCH_ROUNDS', fallback: 3, min: 1, max: 20, scaled: false },
  warmup: { env: 'BENCH_WARMUP', fallback: 1000, min: 0, max: 100_000, scaled: true },
  citizens: { env: 'BENCH_CITIZENS', fallback: 500, min: 1, max: 5_000, scaled: false },
  'smpp-citizens': { env: 'BENCH_SMPP_CITIZENS', fallback: 100, min: 1, max: 5_000, scaled: false },
  agents: { env: 'BENCH_AGENTS', fallback: 0, min: 0, max: 200, scaled: false },
  messages: { env: 'BENCH_MESSAGES', fallback: 30_000, min: 0, max: 1_000_000, scaled: true },
  'sat-seconds': { env: 'BENCH_SAT_SECONDS', fallback: 40, min: 1, max: 600, scaled: false },
  inflight: { env: 'BENCH_INFLIGHT', fallback: 256, min: 1, max: 10_000, scaled: false },
  'smpp-window': { env: 'BENCH_SMPP_WINDOW', fallback: 50, min: 1, max: 100, scaled: false },
  concurrency: { env: 'BENCH_CONCURRENCY', fallback: 64, min: 1, max: 200, scaled: false },
  'rss-messages': { env: 'BENCH_RSS_MESSAGES', fallback: 100_000, min: 0, max: 10_000_000, scaled: true },
  'burst-texts': { env: 'BENCH_BURST_TEXTS', fallback: 10_000, min: 0, max: 100_000, scaled: true },
  'burst-senders': { env: 'BENCH_BURST_SENDERS', fallback: 5_000, min: 1, max: 9_999, scaled: true },
  'max-backlog': { env: 'BENCH_MAX_BACKLOG', fallback: 0, min: 0, max: 1_000_000, scaled: false },
  'max-wait': { env: 'BENCH_MAX_WAIT_MS', fallback: 5_000, min: 100, max: 600_000, scaled: false },
  drain: { env: 'BENCH_DRAIN_MS', fallback: 10_000, min: 500, max: 600_000, scaled: false },
} as const;

type FlagName = keyof typeof FLAGS;

const USAGE = `usage: npm run bench -- [flags]        (every flag also reads the BENCH_* variable shown)
  --scale F           multiply the counts and durations marked * by F (smoke: 0.05)   1  BENCH_SCALE
  --rate N            paced runs: offered load, messages/s                    1000  BENCH_RATE
  --seconds N       * paced runs: length                                        20  BENCH_SECONDS
  --rounds N          paced runs per path (compared by their median p99)         3  BENCH_ROUNDS
  --warmup N        * closed-loop warm-up messages per path, 0 skips           1000  BENCH_WARMUP
  --messages N      * saturation runs: messages per path, 0 skips             30000  BENCH_MESSAGES
  --sat-seconds N     saturation runs: time limit on sending                    40  BENCH_SAT_SECONDS
  --inflight N        saturation runs: messages not yet at an agent            256  BENCH_INFLIGHT
  --smpp-window N     SMPP: submit_sm unanswered at most                        50  BENCH_SMPP_WINDOW
  --citizens N        web chat citizen sockets (5 msg/s each)                  500  BENCH_CITIZENS
  --smpp-citizens N   SMPP senders with a conversation                         100  BENCH_SMPP_CITIZENS
  --agents N          agent sockets, capacity ${MAX_AGENT_CAPACITY} each       default enough + 1  BENCH_AGENTS
  --concurrency N     worker concurrency of both servers                        64  BENCH_CONCURRENCY
  --rss-messages N  * messages through the gateway between RSS readings     100000  BENCH_RSS_MESSAGES
  --burst-texts N   * burst: texts, 0 skips                                  10000  BENCH_BURST_TEXTS
  --burst-senders N * burst: distinct senders                                 5000  BENCH_BURST_SENDERS
  --max-backlog N     paced runs: stop offering past N unseen       default rate x 1 s  BENCH_MAX_BACKLOG
  --max-wait MS       paced runs: stop offering once a message waited MS      5000  BENCH_MAX_WAIT_MS
  --drain MS          count the rest lost after MS without progress         10000  BENCH_DRAIN_MS
  --only WHICH        all | baseline | lifeline                                 all  BENCH_ONLY
  --cpu-prof DIR      run the gateway under node --cpu-prof, profile into DIR         BENCH_CPU_PROF
  --log-level L       the gateway's LOG_LEVEL                               silent  BENCH_LOG_LEVEL`;

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
      only: { type: 'string' },
      'cpu-prof': { type: 'string' },
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
  const text = (name: string, envName: string) => {
    const v = given[name];
    return (typeof v === 'string' ? v : env[envName]) || undefined;
  };
  const scale = read('scale', text('scale', 'BENCH_SCALE'), env);
  // Only what was not given explicitly is scaled.
  const get = (name: FlagName) => {
    const v = given[name];
    const explicit = typeof v === 'string' ? v : env[FLAGS[name].env];
    const value = read(name, typeof v === 'string' ? v : undefined, env);
    return FLAGS[name].scaled && (explicit === undefined || explicit === '') ? value * scale : value;
  };
  const int = (name: FlagName) => Math.max(name === 'burst-senders' ? 1 : 0, Math.round(get(name)));
  const rate = get('rate');
  const citizens = int('citizens');
  if (rate > citizens * CITIZEN_RATE_LIMIT.perSecond * 0.8) {
    throw new Error(`--rate ${rate} needs at least ${Math.ceil(rate / CITIZEN_RATE_LIMIT.perSecond / 0.8)} citizens (5 messages/s each, kept at 80 %), not ${citizens}`);
  }
  const smppCitizens = int('smpp-citizens');
  const neededAgents = Math.ceil((citizens + smppCitizens) / MAX_AGENT_CAPACITY);
  // One agent more than needed, so agents keep free capacity as in a staffed PSAP.
  const agents = int('agents') || neededAgents + 1;
  if (agents < neededAgents) throw new Error(`${citizens + smppCitizens} conversations need at least ${neededAgents} agents of capacity ${MAX_AGENT_CAPACITY}`);
  const only = text('only', 'BENCH_ONLY') ?? 'all';
  if (only !== 'all' && only !== 'baseline' && only !== 'lifeline') throw new Error(`--only must be all, baseline or lifeline, not ${only}\n${USAGE}`);
  const burstTexts = int('burst-texts');
  const burstSenders = Math.min(int('burst-senders'), Math.max(1, burstTexts));
  return {
    scale,
    rate,
    seconds: Math.max(1, get('seconds')),
    warmupMessages: int('warmup'),
    citizens,
    smppCitizens,
    agents,
    saturationMessages: int('messages'),
    saturationSeconds: get('sat-seconds'),
    inFlight: int('inflight'),
    smppWindow: int('smpp-window'),
    workerConcurrency: int('concurrency'),
    rssMessages: int('rss-messages'),
    burstTexts,
    burstSenders,
    pacedRounds: int('rounds'),
    maxBacklog: int('max-backlog') || Math.max(100, Math.ceil(rate)),
    maxWaitMs: get('max-wait'),
    drainMs: get('drain'),
    only,
    profileDir: text('cpu-prof', 'BENCH_CPU_PROF'),
    logLevel: text('log-level', 'BENCH_LOG_LEVEL') ?? 'silent',
  };
}
