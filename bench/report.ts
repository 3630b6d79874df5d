/**
 * Turns runs into the printed tables and the pass/fail verdict: the side
 * by side summary against the baseline, then latency, exactly-once and
 * work per message for every run.
 */
import { ms, note, num, percentile, table, throughput, type RunResult } from './harness.ts';
import type { ServerCounters, StoreCheck } from './verify.ts';

/** How busy the machine and each process were during a run. */
export interface HostLoad {
  /** CPU time of the server under test (child process) over wall time: 2.0 would be both cores. */
  serverCores: number;
  /** Server CPU time in ms. */
  serverCpuMs: number;
  /** CPU time of the PostgreSQL cluster's processes in ms (other databases on it included). */
  postgresCpuMs: number;
  /** CPU time of this process (the load generator and receivers) over wall time. */
  benchCores: number;
  /** Share of the whole machine's CPU busy (every process, all cores). */
  machineBusy: number;
  /** Event-loop delay of this process, p99 in ms: how late the clients' callbacks ran. */
  loopDelayP99: number;
}

export interface RunReport {
  run: RunResult;
  store: StoreCheck;
  work: ServerCounters;
  host: HostLoad;
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
  if (r.store.duplicateRows > 0) out.push(`${r.store.duplicateRows} duplicate rows`);
  if (r.store.ackedNotStored > 0) out.push(`${r.store.ackedNotStored} acked but not stored`);
  if (t.nacked > 0) out.push(`${t.nacked} refused: ${[...t.errors].map(([k, v]) => `${k} x${v}`).join(', ')}`);
  if (t.unknown > 0) out.push(`${t.unknown} unexpected agent messages`);
  if (t.pendingAcks() > 0) out.push(`${t.pendingAcks()} acks never came`);
  if (!r.run.drained) out.push('gave up waiting: no progress');
  return out;
}

const load = (run: RunResult) => (run.offeredRate === null ? `saturated, ${run.inFlight} in flight` : `${num(run.offeredRate)} msg/s offered`);
const p99 = (run: RunResult) => percentile(run.tracker.endToEnd(), 99);

/** The targets the summary checks. */
export const TARGETS = { minThroughputRatio: 0.6, maxP99Ratio: 2 } as const;

/**
 * Lifeline's paths against the baseline: the saturated runs by throughput
 * (target at least 60 % of the baseline's), the paced runs by p99 (target
 * at most twice the baseline's).
 */
export function formatSideBySide(baseline: { saturated?: RunResult; paced?: RunResult }, lifeline: RunResult[]): string {
  const rows: string[][] = [];
  const row = (run: RunResult, ratio: string, verdict: string) => {
    const e2e = run.tracker.endToEnd();
    rows.push([run.path, load(run), num(throughput(run)), ms(percentile(e2e, 50)), ms(percentile(e2e, 99)), ratio, verdict, note(run)]);
  };
  if (baseline.saturated) row(baseline.saturated, '', '');
  for (const run of lifeline.filter((r) => r.offeredRate === null)) {
    const base = baseline.saturated ? throughput(baseline.saturated) : Number.NaN;
    const ratio = throughput(run) / base;
    row(run, `${(ratio * 100).toFixed(0)} % of baseline msg/s`, Number.isNaN(ratio) ? '' : ratio >= TARGETS.minThroughputRatio ? 'met (>= 60 %)' : 'NOT MET (< 60 %)');
  }
  if (baseline.paced) row(baseline.paced, '', '');
  for (const run of lifeline.filter((r) => r.offeredRate !== null)) {
    const ratio = p99(run) / (baseline.paced ? p99(baseline.paced) : Number.NaN);
    row(run, `p99 ${ratio.toFixed(2)} x baseline`, Number.isNaN(ratio) ? '' : ratio <= TARGETS.maxP99Ratio ? 'met (<= 2 x)' : 'NOT MET (> 2 x)');
  }
  return table(
    'Side by side: sender -> server (stored, queued) -> worker -> agent socket; throughput = distinct messages at an agent socket / s; latency ms, from the intended send',
    ['path', 'load', 'achieved/s', 'p50', 'p99', 'vs baseline', 'target', 'note'],
    rows,
  );
}

export function formatReports(reports: RunReport[]): string {
  const name = (r: RunReport) => `${r.run.path}: ${r.run.label}`;
  const latency = reports.map(({ run }) => {
    const e2e = run.tracker.endToEnd();
    const ack = run.tracker.ackLatency();
    return [
      `${run.path}: ${run.label}`,
      run.offeredRate === null ? 'max' : num(run.offeredRate),
      num(throughput(run)),
      ms(percentile(e2e, 50)),
      ms(percentile(e2e, 90)),
      ms(percentile(e2e, 99)),
      ms(e2e.length ? e2e[e2e.length - 1]! : Number.NaN),
      ms(percentile(ack, 50)),
      ms(percentile(ack, 99)),
      ms(run.tracker.maxSendLag()),
      num(run.waits),
    ];
  });
  const integrity = reports.map((r) => {
    const t = r.run.tracker;
    const bad = problems(r);
    return [
      name(r),
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
  const work = reports.map((r) => {
    const sent = r.run.tracker.sent;
    return [
      name(r),
      num(r.work.pgTransactions, 1),
      num(r.work.pgRowsInserted, 1),
      num(r.work.pgRowsUpdated, 1),
      num(r.work.redisCommands, 1),
      num(r.work.redisCpuMs, 2),
      num(sent > 0 ? r.host.serverCpuMs / sent : 0, 2),
      num(sent > 0 ? r.host.postgresCpuMs / sent : 0, 2),
      num(r.host.serverCores, 2),
      num(r.host.benchCores, 2),
      `${(r.host.machineBusy * 100).toFixed(0)} %`,
      ms(r.host.loopDelayP99),
    ];
  });
  return [
    table(
      'Latency (ms): send -> agent socket message:new (paced runs count from the intended send time); ack = the server answered the sender (after commit + enqueue)',
      ['run', 'offered/s', 'achieved/s', 'p50', 'p90', 'p99', 'max', 'ack p50', 'ack p99', 'pacer lag', 'waits'],
      latency,
    ),
    table(
      'Exactly once: agent sockets and the stored rows (Lifeline: messages, direction inbound; baseline: baseline_messages)',
      ['run', 'sent', 'acked', 'refused', 'agent rx', 'dup rx', 'stored', 'dup rows', 'lost', 'reordered', 'result'],
      integrity,
    ),
    table(
      'Work per message (PG counts: the server database; PG CPU: the whole cluster; Redis: the whole server) and CPU (server = the child process under test; bench = load generator + receivers; machine = every process, both cores)',
      ['run', 'PG xacts', 'rows ins', 'rows upd', 'Redis cmds', 'Redis CPU ms', 'server CPU ms', 'PG CPU ms', 'server cores', 'bench cores', 'machine busy', 'bench loop p99'],
      work,
    ),
  ].join('\n\n');
}
