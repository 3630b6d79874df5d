/**
 * The one schema for the environment. `loadConfig` validates every variable,
 * reports all bad ones at once, and returns a frozen Config. `process.env` is
 * read nowhere else in the service.
 */
import path from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.ts';
import { parseChannelWeights, type ChannelWeights } from './routing/weights.ts';

export const PROCESS_ROLES = ['all', 'api', 'worker'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const url = (protocols: string[]) =>
  z
    .string()
    .url()
    .refine((v) => protocols.some((p) => v.startsWith(`${p}://`)), {
      message: `must start with ${protocols.map((p) => `${p}://`).join(' or ')}`,
    });

const envSchema = z
  .object({
    DATABASE_URL: url(['postgres', 'postgresql']).optional(),
    REDIS_URL: url(['redis', 'rediss']).optional(),
    DATA_DIR: z.string().min(1).default('./.lifeline'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: intFrom(0, 65535).default(8080),
    PUBLIC_URL: z.string().url().optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LIFELINE_ROLE: z.enum(PROCESS_ROLES).default('all'),
    QUEUE_PREFIX: z
      .string()
      .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ and - only')
      .default('lifeline'),
    WORKER_CONCURRENCY: intFrom(1, 200).default(16),
    /**
     * BullMQ workers taking the routing queue in each worker process, sharing
     * WORKER_CONCURRENCY. A BullMQ worker fetches waiting jobs one round trip
     * at a time and starts none until its streak ends (up to its concurrency):
     * after a stall, one worker of 64 held the first job of a backlog for
     * 50-80 ms; several shorter streaks in parallel start it sooner.
     * Services mode only: embedded mode's queue runs one worker on PGlite.
     */
    ROUTING_WORKERS: intFrom(1, 32).default(4),
    /** BullMQ lock and stall interval: a killed worker's jobs return after about twice this. */
    JOB_LOCK_MS: intFrom(1000, 600000).default(5000),
    OUTBOX_SWEEP_INTERVAL_MS: intFrom(100, 3600000).default(2000),
    /** How old an unprocessed outbox row must be before the sweeper re-enqueues it. */
    OUTBOX_STALE_MS: intFrom(100, 3600000).default(5000),
    /** The worker role vacuums the outbox and conversations once either holds this many dead rows (0: never, autovacuum's job alone). */
    VACUUM_DEAD_ROWS: intFrom(0, 100000000).default(10000),
    /** How long a process's lease on a link (an SMPP bind, a mailbox) lasts unrenewed. */
    LINK_LEASE_MS: intFrom(300, 600000).default(9000),
    /** With the 1 s exponential base, 10 attempts keep retrying for about 17 minutes (a link being down, an SMSC restarting). */
    OUTBOUND_ATTEMPTS: intFrom(1, 100).default(10),
    OUTBOUND_BACKOFF_MS: intFrom(10, 600000).default(1000),
    SESSION_TTL_HOURS: intFrom(1, 24 * 90).default(12),
    /** An agent with no console connected for this long is set offline and their offers requeued. */
    AGENT_DISCONNECT_GRACE_MS: intFrom(0, 3600000).default(20000),
    MAX_MESSAGE_CHARS: intFrom(1, 100000).default(5000),
    HTTP_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'like 256kb or 2mb').default('1mb'),
    ADMIN_USERNAME: z.string().min(1).default('admin'),
    ADMIN_PASSWORD: z.string().min(12, 'at least 12 characters').optional(),
    /** SMTP server for alert e-mails to supervisors (escalations): smtp://[user:pass@]host:port or smtps://...; unset: no e-mails. */
    ALERT_SMTP_URL: url(['smtp', 'smtps']).optional(),
    /** The From address of alert e-mails. */
    ALERT_FROM: z.string().min(3).default('Lifeline alerts <lifeline@localhost>'),
    /** Load units per channel, e.g. `voice=3,sms=1` (unnamed channels: voice 3, text 1). */
    CHANNEL_WEIGHTS: z
      .string()
      .optional()
      .superRefine((v, ctx) => {
        try {
          parseChannelWeights(v);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      }),
    /** Days after a conversation closed before its content (bodies, attachments, locations) is purged. */
    RETENTION_DAYS: intFrom(1, 36500).default(365),
    /** The same for confidential conversations. */
    CONFIDENTIAL_RETENTION_DAYS: intFrom(1, 36500).default(30),
    /** How often the worker role looks for content past its retention. */
    RETENTION_SWEEP_INTERVAL_MS: intFrom(100, 86400000).default(3600000),
    /** How long a text-from-911 chat invitation link stays valid. */
    CHAT_INVITATION_HOURS: intFrom(1, 24 * 30).default(24),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.DATABASE_URL) !== Boolean(env.REDIS_URL)) {
      const missing = env.DATABASE_URL ? 'REDIS_URL' : 'DATABASE_URL';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'set both DATABASE_URL and REDIS_URL (service mode) or neither (embedded mode)',
      });
    }
  });

export type Env = z.infer<typeof envSchema>;

export interface Config {
  readonly mode: 'services' | 'embedded';
  readonly databaseUrl?: string;
  readonly redisUrl?: string;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly publicUrl?: string;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly role: ProcessRole;
  readonly queuePrefix: string;
  readonly workerConcurrency: number;
  readonly routingWorkers: number;
  readonly jobLockMs: number;
  readonly outboxSweepIntervalMs: number;
  readonly outboxStaleMs: number;
  readonly vacuumDeadRows: number;
  readonly linkLeaseMs: number;
  readonly outboundAttempts: number;
  readonly outboundBackoffMs: number;
  readonly sessionTtlHours: number;
  readonly agentDisconnectGraceMs: number;
  readonly maxMessageChars: number;
  readonly httpBodyLimit: string;
  readonly adminUsername: string;
  readonly adminPassword?: string;
  readonly alertSmtpUrl?: string;
  readonly alertFrom: string;
  readonly channelWeights: ChannelWeights;
  readonly retentionDays: number;
  readonly confidentialRetentionDays: number;
  readonly retentionSweepIntervalMs: number;
  readonly chatInvitationHours: number;
}

/** Raised at start-up when the environment is invalid; names every bad variable. */
export class ConfigError extends AppError {
  constructor(readonly problems: string[]) {
    super('config_invalid', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function roleFromArgv(argv: readonly string[]): string | undefined {
  const i = argv.findIndex((a) => a === '--role' || a.startsWith('--role='));
  if (i < 0) return undefined;
  const arg = argv[i] as string;
  return arg.includes('=') ? arg.slice('--role='.length) : argv[i + 1];
}

/**
 * Validates the environment (and `--role` from argv) into a frozen Config.
 * @throws ConfigError listing every invalid variable.
 */
export function loadConfig(env: Record<string, string | undefined>, argv: readonly string[] = []): Config {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const role = roleFromArgv(argv);
  if (role !== undefined) input.LIFELINE_ROLE = role;
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.join('.') || 'environment';
      const shown = key === 'LIFELINE_ROLE' && role !== undefined ? '--role' : key;
      return `${shown}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  return Object.freeze({
    mode: e.DATABASE_URL ? 'services' : 'embedded',
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    dataDir: path.resolve(e.DATA_DIR),
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL,
    logLevel: e.LOG_LEVEL,
    role: e.LIFELINE_ROLE,
    queuePrefix: e.QUEUE_PREFIX,
    workerConcurrency: e.WORKER_CONCURRENCY,
    routingWorkers: e.ROUTING_WORKERS,
    jobLockMs: e.JOB_LOCK_MS,
    outboxSweepIntervalMs: e.OUTBOX_SWEEP_INTERVAL_MS,
    outboxStaleMs: e.OUTBOX_STALE_MS,
    vacuumDeadRows: e.VACUUM_DEAD_ROWS,
    linkLeaseMs: e.LINK_LEASE_MS,
    outboundAttempts: e.OUTBOUND_ATTEMPTS,
    outboundBackoffMs: e.OUTBOUND_BACKOFF_MS,
    sessionTtlHours: e.SESSION_TTL_HOURS,
    agentDisconnectGraceMs: e.AGENT_DISCONNECT_GRACE_MS,
    maxMessageChars: e.MAX_MESSAGE_CHARS,
    httpBodyLimit: e.HTTP_BODY_LIMIT,
    adminUsername: e.ADMIN_USERNAME,
    adminPassword: e.ADMIN_PASSWORD,
    alertSmtpUrl: e.ALERT_SMTP_URL,
    alertFrom: e.ALERT_FROM,
    channelWeights: parseChannelWeights(e.CHANNEL_WEIGHTS),
    retentionDays: e.RETENTION_DAYS,
    confidentialRetentionDays: e.CONFIDENTIAL_RETENTION_DAYS,
    retentionSweepIntervalMs: e.RETENTION_SWEEP_INTERVAL_MS,
    chatInvitationHours: e.CHAT_INVITATION_HOURS,
  } satisfies Config);
}
