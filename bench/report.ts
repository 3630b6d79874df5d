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

/** The paced runs' timeline: one p99 per this much of sending. */
const TIMELINE_WINDOW_MS = 2000;

/** The targets the summary checks. */
export const TARGETS = { minThroughputRatio: 0.6, maxP99Ratio: 2 } as const;

/** The median of some numbers (the mean of the middle two for an even count); NaN when empty. */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A path's paced rounds summed up: medians across rounds, each round's p99, and the notes of rounds that fell short. */
function pacedSummary(runs: RunResult[]) {
  const p99s = runs.map(p99);
  const notes = [...new Set(runs.map(note))];
  return {
    achieved: median(runs.map(throughput)),
    p50: median(runs.map((r) => percentile(r.tracker.endToEnd(), 50))),
    p99: median(p99s),
    rounds: p99s.map(ms).join(' / '),
    note: notes.length === 1 ? notes[0]! : runs.map((r, i) => `round ${i + 1}: ${note(r)}`).join('; '),
  };
}

/**
 * Lifeline's paths against the baseline: the saturated runs by throughput
 * (target at least 60 % of the baseline's), the paced runs by p99 (target
 * at most twice the baseline's). A single paced run's p99 moves a lot from
 * run to run on a busy two-core machine (the baseline's own by several
 * times), so each path is paced several rounds and the medians compared.
 */
export function formatSideBySide(baseline: { saturated?: RunResult; paced: RunResult[] }, lifeline: RunResult[]): string {
  const rows: string[][] = [];
  const row = (run: RunResult, ratio: string, verdict: string) => {
    const e2e = run.tracker.endToEnd();
    rows.push([run.path, load(run), num(throughput(run)), ms(percentile(e2e, 50)), ms(percentile(e2e, 99)), '', ratio, verdict, note(run)]);
  };
  if (baseline.saturated) row(baseline.saturated, '', '');
  for (const run of lifeline.filter((r) => r.offeredRate === null)) {
    const base = baseline.saturated ? throughput(baseline.saturated) : Number.NaN;
    const ratio = throughput(run) / base;
    row(run, `${(ratio * 100).toFixed(0)} % of baseline msg/s`, Number.isNaN(ratio) ? '' : ratio >= TARGETS.minThroughputRatio ? 'met (>= 60 %)' : 'NOT MET (< 60 %)');
  }
  const pacedRow = (runs: RunResult[], ratio: string, verdict: string) => {
    const s = pacedSummary(runs);
    const first = runs[0]!;
    rows.push([first.path, load(first), num(s.achieved), ms(s.p50), ms(s.p99), s.rounds, ratio, verdict, s.note]);
  };
  const base = baseline.paced.length ? pacedSummary(baseline.paced).p99 : Number.NaN;
  if (baseline.paced.length) pacedRow(baseline.paced, '', '');
  const pacedLifeline = lifeline.filter((r) => r.offeredRate !== null);
  for (const path of [...new Set(pacedLifeline.map((r) => r.path))]) {
    const runs = pacedLifeline.filter((r) => r.path === path);
    const ratio = pacedSummary(runs).p99 / base;
    pacedRow(runs, `p99 ${ratio.toFixed(2)} x baseline`, Number.isNaN(ratio) ? '' : ratio <= TARGETS.maxP99Ratio ? 'met (<= 2 x)' : 'NOT MET (> 2 x)');
  }
  return table(
    'Side by side: sender -> server (stored, queued) -> worker -> agent socket; throughput = distinct messages at an agent socket / s; ' +
      'latency ms, from the intended send; paced rows: medians of the rounds, and each round\'s p99',
    ['path', 'load', 'achieved/s', 'p50', 'p99', 'p99 by round', 'vs baseline', 'target', 'note'],
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
  const paced = reports.filter((r) => r.run.offeredRate !== null);
  const timeline = paced.map(({ run }) => {
    const w = run.tracker.windows(TIMELINE_WINDOW_MS);
    const p99s = (pick: (x: (typeof w)[number]) => Float64Array) => w.map((x) => ms(percentile(pick(x), 99))).join(' ');
    return `${run.path}: ${run.label}\n  end-to-end p99: ${p99s((x) => x.endToEnd)}\n  after the ack:  ${p99s((x) => x.afterAck)}`;
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
    ...(timeline.length
      ? [`Paced runs over time: p99 latency (ms) of each ${TIMELINE_WINDOW_MS / 1000} s of sending, end to end and after the ack (queue, worker, push)\n${timeline.join('\n')}`]
      : []),
  ].join('\n\n');
}
