/**
 * Turns runs into the printed tables and the pass/fail verdict.
 */
import type { RunResult } from './load.ts';
import type { ServerCounters, StoreCheck } from './verify.ts';

/** How busy this process (clients and gateway together) was during a run. */
export interface HostLoad {
  /** CPU time of this process over wall time: 2.0 would be both cores. */
  cpuCores: number;
  /** CPU time of this process in ms. */
  cpuMs: number;
  /** Event-loop delay percentiles in ms: how late every callback, gateway or client, ran. */
  loopDelayP50: number;
  loopDelayP99: number;
  loopDelayMax: number;
}

export interface RunReport {
  run: RunResult;
  store: StoreCheck;
  work: ServerCounters;
  host: HostLoad;
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Sent messages that never reached an agent or the store. */
export function lost(r: RunReport): number {
  const missing = new Set(r.run.tracker.missing());
  for (const seq of r.store.notStored) missing.add(seq);
  return missing.size;
}

/** Why a run failed the exactly-once check; empty when it passed. */
export function problems(r: RunReport): string[] {
  const t = r.run.tracker;
  const out: string[] = [];
  const n = lost(r);
  if (n > 0) out.push(`${n} lost (first: ${[...t.missing(), ...r.store.notStored].slice(0, 5).map((s) => t.clientId(s)).join(', ')})`);
  if (t.duplicates > 0) out.push(`${t.duplicates} duplicate deliveries to an agent`);
  if (r.store.duplicateRows > 0) out.push(`${r.store.duplicateRows} duplicate rows in messages`);
  if (r.store.ackedNotStored > 0) out.push(`${r.store.ackedNotStored} acked but not stored`);
  if (t.nacked > 0) out.push(`${t.nacked} refused: ${[...t.errors].map(([k, v]) => `${k} x${v}`).join(', ')}`);
  if (t.unknown > 0) out.push(`${t.unknown} unexpected agent messages`);
  if (t.pendingAcks() > 0) out.push(`${t.pendingAcks()} acks never came`);
  if (!r.run.drained) out.push('gave up waiting: no progress');
  return out;
}

/** Milliseconds for a table cell. */
export const ms = (v: number) => (Number.isNaN(v) ? '-' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
/** Fixed decimals with thousands separators (without Intl, whose first use is slow). */
export const num = (v: number, digits = 0) => {
  const [whole = '', fraction] = v.toFixed(digits).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
};

/** A titled plain-text table: first column left-aligned, the rest right-aligned. */
export function table(title: string, header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [title, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Achieved throughput: distinct deliveries over first intended send to last delivery. */
export function throughput(r: RunResult): number {
  const { start, end } = r.tracker.window();
  return end > start ? (r.tracker.received / (end - start)) * 1000 : 0;
}

/** Whether a paced run kept up with its offered load, or why sending stopped. */
function note(run: RunResult): string {
  if (run.stoppedEarly) return run.offeredRate === null ? run.stoppedEarly : `NOT SUSTAINED: ${run.stoppedEarly}`;
  if (run.offeredRate === null) return '';
  return throughput(run) >= 0.95 * run.offeredRate ? 'sustained' : 'NOT SUSTAINED: delivered below 95 % of offered';
}

export function formatReports(reports: RunReport[]): string {
  const latency = reports.map(({ run }) => {
    const e2e = run.tracker.endToEnd();
    const ack = run.tracker.ackLatency();
    return [
      run.label,
      run.offeredRate === null ? 'max' : num(run.offeredRate),
      num(throughput(run)),
      ms(percentile(e2e, 50)),
      ms(percentile(e2e, 90)),
      ms(percentile(e2e, 99)),
      ms(e2e.length ? e2e[e2e.length - 1]! : Number.NaN),
      ms(percentile(ack, 50)),
      ms(percentile(ack, 99)),
      ms(run.tracker.maxSendLag()),
      num(run.tokenWaits),
      note(run),
    ];
  });
  const integrity = reports.map((r) => {
    const t = r.run.tracker;
    const bad = problems(r);
    return [
      r.run.label,
      num(t.sent),
      num(t.acked),
      num(t.nacked),
      num(t.received),
      num(t.duplicates),
      num(r.store.stored),
      num(r.store.duplicateRows),
      num(lost(r)),
      num(t.reordered),
      bad.length === 0 ? 'ok' : `FAIL: ${bad.join('; ')}`,
    ];
  });
  const work = reports.map((r) => [
    r.run.label,
    num(r.work.pgTransactions, 1),
    num(r.work.pgRowsInserted, 1),
    num(r.work.pgRowsUpdated, 1),
    num(r.work.redisCommands, 1),
    num(r.host.cpuCores, 2),
    num(r.run.tracker.sent > 0 ? r.host.cpuMs / r.run.tracker.sent : 0, 2),
    ms(r.host.loopDelayP50),
    ms(r.host.loopDelayP99),
    ms(r.host.loopDelayMax),
  ]);
  return [
    table(
      'Latency: citizen message:send -> agent socket message:new (ms; paced runs count from the intended send time)',
      ['run', 'offered/s', 'achieved/s', 'p50', 'p90', 'p99', 'max', 'ack p50', 'ack p99', 'pacer lag', 'token waits', 'note'],
      latency,
    ),
    table(
      'Exactly once: agent socket and messages table (direction inbound)',
      ['run', 'sent', 'acked', 'refused', 'agent rx', 'dup rx', 'stored', 'dup rows', 'lost', 'reordered', 'result'],
      integrity,
    ),
    table(
      'Work per message (PG: the gateway database; Redis: the whole server) and load of this process (clients + gateway)',
      ['run', 'PG xacts', 'rows ins', 'rows upd', 'Redis cmds', 'CPU cores', 'CPU ms/msg', 'loop delay p50', 'p99', 'max'],
      work,
    ),
  ].join('\n\n');
}
