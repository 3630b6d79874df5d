/**
 * Runs the administrator-managed links this process holds a lease on. Every
 * tick it takes or renews leases on enabled links, starts the ones it gained,
 * restarts the ones that changed, stops the ones it lost or that were
 * disabled or deleted, and publishes their live status with the lease.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { ChannelAdapter, LinkRunner, LinkStatus } from '../channel.ts';
import type { Channel } from '../domain/types.ts';
import type { Logger } from '../log.ts';
import type { LinkStatusUpdate } from '../realtime/events.ts';
import type { Db } from '../store/db.ts';
import { acquireLease, listLinks, releaseLease } from '../store/links.ts';

export interface LinkSupervisor {
  readonly holder: string;
  /** Runs one pass now (after an administrator's change). */
  poke(): Promise<void>;
  stop(): Promise<void>;
}

interface Running {
  channel: Channel;
  name: string;
  version: number;
  /** The last state seen, to notice a link going down or coming back. */
  state?: LinkStatus['state'];
  worker?: { close(force?: boolean): Promise<void> };
}

export interface LinkSupervisorDeps {
  db: Db;
  adapters: readonly ChannelAdapter[];
  leaseMs: number;
  log: Logger;
  /** Called when a running link goes down (after being up) or comes back up. */
  onStateChange(change: LinkStatusUpdate): void;
  /** Starts the worker of the link's own delivery queue while this process runs the link. */
  startLinkWorker?(linkId: string): { close(force?: boolean): Promise<void> };
}

/**
 * How long stopping a link may take: its delivery worker's jobs in flight,
 * then the channel's own stop. A supervision pass must never hang on a stop
 * (a queue worker closing while Redis restarts waits for ever), or the
 * process keeps the peer connection of a link whose lease another process
 * has taken: two binds to one SMSC, two readers of one mailbox.
 */
const STOP_STEP_MS = 3000;

/** Resolves when `work` settles or after `ms`, whichever is first; true if it settled. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

export function startLinkSupervisor(deps: LinkSupervisorDeps): LinkSupervisor {
  const log = deps.log.child({ component: 'links' });
  const holder = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const runners = new Map<Channel, LinkRunner>();
  for (const a of deps.adapters) if (a.links) runners.set(a.channel, a.links);
  const running = new Map<string, Running>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let pass: Promise<void> = Promise.resolve();

  const statusOf = (channel: Channel, id: string): Record<string, unknown> =>
    (runners.get(channel)?.status(id) as (LinkStatus & Record<string, unknown>) | undefined) ?? {};

  function noticeState(id: string, r: Running, status: LinkStatus): void {
    const before = r.state;
    r.state = status.state;
    const wentDown = before === 'up' && status.state !== 'up';
    const cameBack = before !== undefined && before !== 'up' && status.state === 'up';
    if (!wentDown && !cameBack) return;
    const change = { linkId: id, name: r.name, channel: r.channel, state: status.state, lastError: status.lastError, at: new Date().toISOString() };
    (wentDown ? log.warn.bind(log) : log.info.bind(log))(change, wentDown ? 'link went down' : 'link is up again');
    deps.onStateChange(change);
  }

  async function stopLink(id: string, reason: string): Promise<void> {
    const r = running.get(id);
    if (!r) return;
    running.delete(id);
    const worker = r.worker;
    if (worker) {
      const closing = worker.close().catch((err: unknown) => log.error({ err, linkId: id }, 'link queue worker close failed'));
      if (!(await within(closing, STOP_STEP_MS))) {
        log.warn({ linkId: id, afterMs: STOP_STEP_MS }, 'link queue worker did not close in time; forcing it (its jobs in flight run again elsewhere)');
        void worker.close(true).catch(() => undefined);
      }
    }
    const stopping = (runners.get(r.channel)?.stop(id) ?? Promise.resolve()).catch((err: unknown) => log.error({ err, linkId: id }, 'link stop failed'));
    if (!(await within(stopping, STOP_STEP_MS))) log.error({ linkId: id, afterMs: STOP_STEP_MS }, 'link did not stop in time; supervision goes on');
    log.info({ linkId: id, reason }, 'link stopped here');
  }

  async function tick(): Promise<void> {
    if (runners.size === 0 || stopped) return;
    const links = (await listLinks(deps.db)).filter((l) => runners.has(l.link.channel));
    const wanted = new Set<string>();
    for (const { link } of links) {
      if (!link.enabled) continue;
      const status = runners.get(link.channel)?.status(link.id);
      const held = await acquireLease(deps.db, link.id, holder, deps.leaseMs, statusOf(link.channel, link.id));
      if (!held) continue;
      wanted.add(link.id);
      const current = running.get(link.id);
      if (current && status) noticeState(link.id, current, status);
      if (current && current.version === link.version) continue;
      if (current) await stopLink(link.id, 'changed');
      const runner = runners.get(link.channel) as LinkRunner;
      const entry: Running = { channel: link.channel, name: link.name, version: link.version };
      running.set(link.id, entry);
      try {
        const parsed = runner.parse({ settings: link.settings, secrets: link.secrets });
        await runner.start({ id: link.id, name: link.name, channel: link.channel, ...parsed });
        entry.worker = deps.startLinkWorker?.(link.id);
        log.info({ linkId: link.id, channel: link.channel, holder }, 'link started here');
      } catch (err) {
        // Give the link up so the next pass (here or in another process) tries again.
        running.delete(link.id);
        wanted.delete(link.id);
        await releaseLease(deps.db, link.id, holder).catch(() => undefined);
        log.error({ err, linkId: link.id }, 'link failed to start; will retry');
      }
    }
    for (const id of [...running.keys()]) {
      if (!wanted.has(id)) {
        await stopLink(id, 'lease lost, disabled or deleted');
        await releaseLease(deps.db, id, holder);
      }
    }
  }

  const run = () => {
    pass = pass.then(tick).catch((err: unknown) => log.error({ err }, 'link supervision pass failed'));
    return pass;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void run().finally(schedule), Math.max(100, Math.floor(deps.leaseMs / 3)));
    timer.unref();
  };
  void run().finally(schedule);

  return {
    holder,
    poke: run,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await pass;
      for (const id of [...running.keys()]) {
        await stopLink(id, 'process stopping');
        await releaseLease(deps.db, id, holder).catch(() => undefined);
      }
    },
  };
}
