/**
 * Builds and starts a gateway from a Config and the channel adapters: the
 * composition used by main.ts and by the tests. The only place that wires
 * things together.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import type { Express } from 'express';
import { Server } from 'socket.io';
import type { ChannelAdapter, InboundMessage } from './channel.ts';
import type { Config } from './config.ts';
import { createAuth } from './auth/sessions.ts';
import { ConsoleService } from './console/service.ts';
import type { Channel } from './domain/types.ts';
import { createApp, finishApp } from './http/app.ts';
import { ingest } from './ingest/ingest.ts';
import { startSweeper, type Sweeper } from './ingest/sweeper.ts';
import { autovacuumEnabled } from './store/vacuum.ts';
import type { Logger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { startLinkSupervisor, type LinkSupervisor } from './links/supervisor.ts';
import { createPostgresQueueBackend, createRedisQueueBackend, type JobWorker, type QueueBackend } from './queue/backend.ts';
import { linkQueueName, QUEUE_NAMES } from './queue/catalog.ts';
import { createEnqueuer, enqueueAfterCommit } from './queue/enqueue.ts';
import { attachAgentNamespace } from './realtime/agent-namespace.ts';
import type { AgentNamespace, CitizenNamespace } from './realtime/events.ts';
import { createNotifier, type Notifier } from './realtime/notifier.ts';
import { longestIdlePolicy } from './routing/policy.ts';
import { migrateStore, openStore, type Store } from './store/db.ts';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './store/embedded.ts';
import { createInboundStore } from './store/inbound.ts';
import { createRuleCache } from './store/rules.ts';
import { ensureDefaults } from './store/setup.ts';
import { recordEvent } from './store/conversations.ts';
import { mountPages } from './ui/pages.ts';
import { LocationService } from './console/locations.ts';
import { OutreachService } from './console/outreach.ts';
import { startRetentionSweeper, type RetentionSweeper } from '../workers/retention.ts';
import { createOutboundProcessor, recordDelivery } from '../workers/outbound.ts';
import { createRoutingProcessor } from '../workers/routing.ts';
import { createTimerProcessor } from '../workers/timers.ts';
import { createAlertMailer } from './outbound/alert-mail.ts';
import { createConsoleProbe } from './realtime/console-probe.ts';

export interface Gateway {
  readonly config: Config;
  /** The HTTP application: its router lists every route served (the API document's test walks it). */
  readonly app: Express;
  readonly url: string;
  readonly port: number;
  readonly store: Store;
  readonly queues: QueueBackend;
  /** Pushes to consoles and citizen pages (tests emit through it as the workers do). */
  readonly notifier: Notifier;
  readonly sweeper?: Sweeper;
  /** Runs this process's share of the administrator-managed links (absent in the api role). */
  readonly links?: LinkSupervisor;
  /** Set when this start created the first administrator with a generated password. */
  readonly generatedAdminPassword?: string;
  receive(message: InboundMessage): ReturnType<typeof ingest>;
  stop(): Promise<void>;
}

/** Socket.IO's Redis streams adapter, on its own connection, named after the queue prefix. */
function attachSocketAdapter(io: Server, config: Config): Redis {
  const redis = new Redis(config.redisUrl as string, { maxRetriesPerRequest: null });
  const name = `${config.queuePrefix}:socket.io`;
  // A short XREAD block lets a stopping process let go of Redis quickly.
  io.adapter(createAdapter(redis, { streamName: name, channelPrefix: name, blockTimeInMs: 1000 }));
  return redis;
}

async function openBackends(config: Config, log: Logger) {
  const embedded: EmbeddedDatabase[] = [];
  if (config.mode === 'services') {
    return {
      store: openStore({ url: config.databaseUrl as string, log }),
      queues: createRedisQueueBackend(config.redisUrl as string, config.queuePrefix),
      embedded,
    };
  }
  // The two first-start initialisations are CPU-bound WASM: run them side by side.
  const [storeDb, queueDb] = await Promise.all([
    startEmbeddedDatabase(path.join(config.dataDir, 'store'), { log, maxConnections: 2 }),
    startEmbeddedDatabase(path.join(config.dataDir, 'queue'), {
      log,
      maxConnections: 16,
      init: 'CREATE SCHEMA IF NOT EXISTS bullmq; SET search_path TO bullmq, public',
    }),
  ]);
  embedded.push(storeDb, queueDb);
  return { store: openStore({ url: storeDb.url, max: 1, log }), queues: await createPostgresQueueBackend(queueDb.url), embedded };
}

/** Starts a gateway; resolves once it is listening and its workers run. */
export async function startGateway(config: Config, adapterList: ChannelAdapter[], rootLog: Logger): Promise<Gateway> {
  const log = rootLog.child({ role: config.role });
  const { store, queues, embedded } = await openBackends(config, log);
  await migrateStore(store, { lock: config.mode === 'services' });
  const setup = await ensureDefaults(store.db, { username: config.adminUsername, password: config.adminPassword });

  const db = store.db;
  const metrics = createMetrics();
  const enqueue = createEnqueuer(queues, { attempts: config.outboundAttempts, backoffMs: config.outboundBackoffMs });
  const rules = createRuleCache(db);
  const adapters = new Map<Channel, ChannelAdapter>(adapterList.map((a) => [a.channel, a]));

  const server = http.createServer();
  const io = new Server(server, { serveClient: false, maxHttpBufferSize: 1e6, pingInterval: 10000, pingTimeout: 10000 });
  // With several processes, the one that routes a message or sends a reply is often not the one
  // holding the agent's or the citizen's socket: every push goes through Redis to all of them.
  const socketRedis = config.mode === 'services' ? attachSocketAdapter(io, config) : undefined;
  const agentsNs = io.of('/agent') as unknown as AgentNamespace;
  const citizensNs = io.of('/citizen') as unknown as CitizenNamespace;
  const notifier = createNotifier(agentsNs, citizensNs);
  // A logout or a disabled agent disconnects the consoles of the revoked sessions at once.
  const auth = createAuth(db, config.sessionTtlHours, (revoked) => notifier.disconnectRevoked(revoked));
  const consoleService = new ConsoleService({
    db,
    enqueue,
    notifier,
    adapters,
    log,
    metrics,
    // The e-mails go out from the timers worker (retried, each contact once): here they are only queued.
    onEmergencyFlagged: async (conversationId, actor) => {
      const err = await enqueueAfterCommit(enqueue.timer({ kind: 'emergency-contacts-email', conversationId, agentId: actor.agentId }, 0));
      if (err) throw err;
    },
  });
  const locationService = new LocationService({ db, notifier, console: consoleService });
  // The listening URL is known only after listen(); invitation links are made later than that.
  let publicUrl = config.publicUrl ?? '';
  const outreach = new OutreachService({
    db,
    enqueue,
    console: consoleService,
    log,
    publicUrl: () => publicUrl,
    invitationHours: config.chatInvitationHours,
  });

  const ingestDeps = { inbound: createInboundStore(store.sql), enqueue, log, maxMessageChars: config.maxMessageChars };
  const receive = async (message: InboundMessage) => {
    metrics.received.inc({ channel: message.channel });
    const result = await ingest(ingestDeps, message);
    (result.duplicate ? metrics.duplicates : metrics.stored).inc({ channel: message.channel });
    return result;
  };

  let links: LinkSupervisor | undefined;
  const app = createApp({
    db,
    auth,
    console: consoleService,
    locations: locationService,
    outreach,
    queues,
    enqueue,
    rules,
    metrics,
    log,
    adapters,
    poke: async () => links?.poke(),
    bodyLimit: config.httpBodyLimit,
    maxMessageChars: config.maxMessageChars,
  });
  mountPages(app);
  attachAgentNamespace(agentsNs, { auth, console: consoleService, log, maxMessageChars: config.maxMessageChars, disconnectGraceMs: config.agentDisconnectGraceMs });
  server.on('request', app);

  const consoleProbe = createConsoleProbe(agentsNs);
  const alertMailer = config.role !== 'api' ? createAlertMailer({ smtpUrl: config.alertSmtpUrl, from: config.alertFrom }) : undefined;
  if (config.role !== 'api' && !alertMailer) log.info('no ALERT_SMTP_URL: escalation e-mails to supervisors and e-mails to emergency contacts are off');
  // Links in alert and emergency contact e-mails: the listening URL is known only after listen().
  let timerBaseUrl = config.publicUrl ?? '';
  const workers: JobWorker[] = [];
  let sweeper: Sweeper | undefined;
  let retention: RetentionSweeper | undefined;
  const workerOptions = { concurrency: config.workerConcurrency, lockMs: config.jobLockMs, log };
  const deliver = createOutboundProcessor({ db, enqueue, adapters, notifier, log, metrics });
  if (config.role !== 'api') {
    // One processor (its batched reads, dispatcher and armed timers) behind every routing worker.
    const route = createRoutingProcessor({
      db,
      sql: store.sql,
      rules,
      policy: longestIdlePolicy,
      console: consoleService,
      notifier,
      log,
      enqueue,
      weights: config.channelWeights,
      reachable: consoleProbe,
    });
    // Embedded mode's queue lives in PGlite, one connection for everything: more workers only wait on it.
    const routingWorkers = queues.kind === 'redis' ? config.routingWorkers : 1;
    const routingConcurrency = Math.max(1, Math.ceil(config.workerConcurrency / routingWorkers));
    for (let i = 0; i < routingWorkers; i++) {
      workers.push(queues.worker(QUEUE_NAMES.routing, route, { ...workerOptions, concurrency: routingConcurrency }));
    }
    workers.push(
      queues.worker(QUEUE_NAMES.outbound, deliver, workerOptions),
      queues.worker(
        QUEUE_NAMES.timers,
        createTimerProcessor({ db, enqueue, console: consoleService, notifier, mailer: alertMailer, consoleUrl: () => timerBaseUrl, log }),
        workerOptions,
      ),
    );
    sweeper = startSweeper({
      db,
      enqueue,
      log,
      intervalMs: config.outboxSweepIntervalMs,
      staleMs: config.outboxStaleMs,
      vacuumDeadRows: config.vacuumDeadRows,
    });
    // PGlite (embedded mode) has no autovacuum by design; a PostgreSQL server without it is worth a warning.
    if (config.mode === 'services' && !(await autovacuumEnabled(db))) {
      log.warn(
        { vacuumDeadRows: config.vacuumDeadRows },
        "PostgreSQL's autovacuum is off: Lifeline vacuums the outbox and conversations itself (VACUUM_DEAD_ROWS), every other table keeps its dead rows",
      );
    }
    retention = startRetentionSweeper({
      db,
      log,
      intervalMs: config.retentionSweepIntervalMs,
      policy: { retentionDays: config.retentionDays, confidentialRetentionDays: config.confidentialRetentionDays },
    });
  }

  for (const adapter of adapterList) {
    await adapter.start({
      receive,
      updateDelivery: (messageId, status, error) => recordDelivery({ db, notifier }, messageId, status, { error }),
      citizenTyping: (conversationId, typing) => notifier.toAgents({ conversationId }, 'typing', { conversationId, who: 'citizen', agentId: null, typing }),
      publishConversation: async (conversationId) => void (await consoleService.publishConversation(conversationId)),
      publishMessage: async (messageId) => void (await consoleService.publishMessage(messageId)),
      recordLocation: async (input) => void (await locationService.recordAutomatic(input)),
      db,
      app,
      citizens: citizensNs,
      log,
      maxMessageChars: config.maxMessageChars,
    });
  }
  finishApp(app, log);
  if (config.role !== 'api') {
    links = startLinkSupervisor({
      db,
      adapters: adapterList,
      leaseMs: config.linkLeaseMs,
      log,
      startLinkWorker: (linkId) => queues.worker(linkQueueName(linkId), deliver, workerOptions),
      onStateChange: (change) => {
        notifier.toAgents({ supervisors: true }, 'link:status', change);
        recordEvent(db, { conversationId: null, type: change.state === 'up' ? 'link.up' : 'link.down', actorType: 'system', data: { ...change } }).catch(
          (err: unknown) => log.error({ err }, 'recording a link event failed'),
        );
      },
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = config.publicUrl ?? `http://${host}:${port}`;
  timerBaseUrl = url;
  publicUrl = url;
  log.info({ url, mode: config.mode }, 'gateway listening');

  let stopping: Promise<void> | undefined;
  return {
    config,
    app,
    url,
    port,
    store,
    queues,
    notifier,
    sweeper,
    get links() {
      return links;
    },
    generatedAdminPassword: setup.generatedAdminPassword,
    receive,
    stop() {
      stopping ??= (async () => {
        await sweeper?.stop();
        await retention?.stop();
        await links?.stop();
        for (const adapter of adapterList) await adapter.stop().catch((err: unknown) => log.warn({ err }, 'adapter stop failed'));
        io.disconnectSockets(true);
        await new Promise<void>((resolve) => {
          io.close(() => resolve());
          server.closeAllConnections();
        });
        socketRedis?.disconnect();
        await Promise.allSettled(workers.map((w) => w.close()));
        alertMailer?.close();
        await enqueue.close();
        await queues.close();
        await store.close();
        for (const e of embedded.reverse()) await e.close();
        log.info('gateway stopped');
      })();
      return stopping;
    },
  };
}
