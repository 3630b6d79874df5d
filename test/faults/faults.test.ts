/**
 * The fault suite: under a steady load of web-chat and SMPP messages, real
 * gateway processes (two API, two worker) survive, one after the other: a
 * worker killed -9, an API process killed -9, Redis flushed and restarted
 * empty, PostgreSQL restarted after a crash stop, and the SMSC dropping the
 * link. After each, every message a channel accepted (web chat: acked;
 * SMPP: deliver_sm_resp ESME_ROK; e-mail: in the mailbox) is stored exactly once and shown to an
 * agent. Last, the IMAP server crashes while mail keeps arriving. A
 * table of the counters is printed per fault.
 *
 * A killed process is started again at once (as a supervisor such as
 * systemd does); its clients reconnect to it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type Dovecot } from '../support/dovecot.ts';
import { api, createAgents } from '../support/gateway.ts';
import type { GatewayProcess } from '../support/gateway-process.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { waitFor } from '../support/wait.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { AgentConsole, ChatCitizen, MailSender, SmsSender, SteadyLoad } from './traffic.ts';

/** Accepted messages needed before a fault (steady state) and after it (recovered). */
const STEADY = 40;
const SMS_SENDERS = Array.from({ length: 8 }, (_, i) => `1555700${String(i).padStart(4, '0')}`);
const MAIL_SENDERS = Array.from({ length: 4 }, (_, i) => `citizen${i}@citizen.test`);

interface Row {
  fault: string;
  sent: number;
  accepted: number;
  stored: number;
  duplicates: number;
  shown: number;
  resynced: number;
  /** Routing jobs of the phase's messages the outbox sweeper had to enqueue again. */
  swept: number;
  recoverySeconds: number;
}

function table(rows: Row[]): string {
  const head = ['fault', 'sent', 'accepted', 'stored', 'duplicates', 'shown to agents', 'of which on open', 're-enqueued by sweeper', 'recovered in'];
  const cells = rows.map((r) => [r.fault, r.sent, r.accepted, r.stored, r.duplicates, r.shown, r.resynced, r.swept, `${r.recoverySeconds.toFixed(1)} s`].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

describe('faults under steady load', () => {
  let cluster: Cluster;
  let load: SteadyLoad;
  let linkId: string;
  let mailLinkId: string;
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let mail: MailSender;
  const agents: AgentConsole[] = [];
  const citizens: ChatCitizen[] = [];
  const rows: Row[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ apis: 2, workers: 2 });
    const front = cluster.apis[0]!;
    // Quick re-offers of an offer whose push was lost; agents never set away for missed offers.
    const queues = await fetch(`${front.url}/api/queues`, { headers: { authorization: `Bearer ${cluster.admin}` } }).then((r) => r.json() as Promise<{ queues: Array<{ id: string }> }>);
    for (const q of queues.queues) {
      const res = await fetch(`${front.url}/api/queues/${q.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${cluster.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ offerTimeoutSeconds: 15, missedOffersBeforeAway: 100 }),
      });
      if (res.status !== 200) throw new Error(`PATCH queue: ${res.status} ${await res.text()}`);
    }
    linkId = await cluster.createSmsLink();
    dovecot = await startDovecot();
    sink = await startSmtpSink();
    const created = await api<{ link: { id: string } }>(front, 'POST', '/api/links', {
      token: cluster.admin,
      body: {
        channel: 'email',
        name: 'psap mailbox',
        settings: {
          imap: { host: dovecot.host, port: dovecot.port, tls: false, user: dovecot.user },
          smtp: { host: sink.host, port: sink.port, tls: false, from: 'text911@psap.test', fromName: 'County 911' },
          // Four senders write all through the suite: above the default 20 an hour, their mails would be
          // stored with a rate-limit note appended, and the counters compare bodies exactly.
          perSenderPerHour: 10_000,
        },
        secrets: { imapPassword: dovecot.password },
      },
    });
    if (created.status !== 201) throw new Error(`creating the mailbox link: ${created.status} ${JSON.stringify(created.body)}`);
    mailLinkId = created.body.link.id;
    await waitFor('the mailbox link up', async () => (await cluster.link(mailLinkId)).runner?.status.state === 'up', 30_000, 100);
    const accounts = await createAgents(front, [
      { username: 'ana', capacity: 30 },
      { username: 'ben', capacity: 30 },
      { username: 'cho', capacity: 30 },
    ]);
    for (const [i, account] of accounts.entries()) agents.push(await AgentConsole.connect(cluster.apis[i % 2]!.url, account));
    for (let i = 0; i < 12; i++) citizens.push(await ChatCitizen.connect(cluster.apis[i % 2]!.url, i));
    const sms = new SmsSender(cluster.smsc);
    mail = new MailSender(dovecot);
    load = new SteadyLoad([
      { channel: 'webchat', everyMs: 100, send: (record, n) => citizens[n % citizens.length]!.send(record, record.key) },
      { channel: 'sms', everyMs: 250, send: (record, n) => sms.send(record, SMS_SENDERS[n % SMS_SENDERS.length]!, record.key) },
      { channel: 'email', everyMs: 700, send: (record, n) => mail.send(record, MAIL_SENDERS[n % MAIL_SENDERS.length]!, record.key) },
    ]);
  });

  afterAll(async () => {
    await load?.end();
    if (rows.length > 0) console.log(`\nFault suite, counters per fault:\n${table(rows)}\n`);
    for (const c of [...agents, ...citizens]) c.close();
    await cluster?.destroy();
    await sink?.stop();
    await dovecot?.stop();
  });

  /**
   * Runs one fault under load: steady traffic first, the fault, traffic
   * accepted again, then the load stops and every accepted message must be
   * stored once and shown to an agent.
   */
  async function underLoad(fault: string, inject: () => Promise<void>): Promise<Row> {
    const began = Date.now();
    load.begin(fault);
    await waitFor(`${fault}: steady traffic before the fault`, () => load.acceptedSince(fault, began) >= STEADY, 30_000, 20);
    const injected = Date.now();
    await inject();
    const over = Date.now();
    await waitFor(`${fault}: traffic accepted again after the fault`, () => load.acceptedSentSince(fault, over) >= STEADY, 120_000, 20);
    await load.end();
    const sent = load.ofPhase(fault);
    const accepted = sent.filter((s) => s.acceptedAt !== undefined);
    const storedRows = async () =>
      cluster.sql<Array<{ body: string; n: number }>>`select body, count(*)::int as n from messages where direction = 'inbound' and body like ${`${fault}:%`} group by body`;
    const shownBy = (key: string) => agents.map((a) => a.seen.get(key)).find((how) => how !== undefined);
    const pending = () => accepted.filter((s) => shownBy(s.key) === undefined);
    await waitFor(
      `${fault}: every accepted message shown to an agent (${pending().length} not yet: ${pending().slice(0, 5).map((s) => s.key).join(', ')})`,
      () => pending().length === 0,
      60_000,
      50,
    ).catch(async (err: unknown) => {
      const missing = pending().map((s) => s.key);
      const storedMissing = (await storedRows()).filter((r) => missing.includes(r.body)).length;
      console.log(await cluster.logs());
      const consoleErrors = agents.flatMap((a) => a.errors.map((e) => `${a.username}: ${e}`));
      throw new Error(`${(err as Error).message}; not shown: ${missing.join(', ')} (${storedMissing} of them stored); console errors: ${consoleErrors.slice(-10).join('; ')}`);
    });
    const rowsNow = await storedRows();
    const stored = new Map(rowsNow.map((r) => [r.body, r.n]));
    const acceptedKeys = accepted.map((s) => s.key);
    const [swept] = await cluster.sql<Array<{ n: number }>>`
      select count(*)::int as n from outbox o join messages m on m.id = o.message_id
       where o.kind = 'route' and m.direction = 'inbound' and m.body like ${`${fault}:%`} and o.enqueue_count > 0`;
    const row: Row = {
      fault,
      sent: sent.length,
      accepted: accepted.length,
      stored: acceptedKeys.filter((k) => (stored.get(k) ?? 0) > 0).length,
      duplicates: rowsNow.reduce((n, r) => n + r.n - 1, 0),
      shown: acceptedKeys.filter((k) => shownBy(k) !== undefined).length,
      resynced: acceptedKeys.filter((k) => shownBy(k) === 'open').length,
      swept: swept?.n ?? 0,
      // From the fault's start to the first acceptance of a message sent once it was over.
      recoverySeconds: (Math.min(...accepted.filter((s) => s.sentAt >= over).map((s) => s.acceptedAt!)) - injected) / 1000,
    };
    rows.push(row);
    console.log(`\n${table([row])}\n`);
    const givenUp = sent.filter((s) => s.acceptedAt === undefined);
    expect(givenUp.map((s) => `${s.key} (${s.attempts} attempts: ${s.lastError})`)).toEqual([]);
    expect(row.stored).toBe(row.accepted);
    expect(row.duplicates).toBe(0);
    expect(row.shown).toBe(row.accepted);
    // Nothing stored that was not sent.
    expect(rowsNow.every((r) => sent.some((s) => s.key === r.body))).toBe(true);
    // One process holds the SMPP link: a process that lost its lease (frozen, cut off) let go of the SMSC.
    await waitFor(`${fault}: the SMPP link bound by one process only (${cluster.smsc.openBinds} binds open)`, () => cluster.smsc.openBinds === 1, 20_000, 50);
    return row;
  }

  const killAndRestart = async (p: GatewayProcess) => {
    await p.kill9();
    await p.start();
  };

  it('without a fault (baseline)', async () => {
    await underLoad('none', async () => undefined);
  });

  it('kill -9 of the worker running the SMPP link', async () => {
    const holder = await waitFor('the link holder', () => cluster.holderOf(linkId), 10_000);
    await underLoad('kill-worker', () => killAndRestart(holder));
  });

  it('kill -9 of an API process', async () => {
    await underLoad('kill-api', () => killAndRestart(cluster.apis[1]!));
  });

  it('Redis FLUSHALL and restart (empty), with routing jobs waiting in it', async () => {
    let flushed: number[] = [];
    let notWaiting = 0;
    await underLoad('redis-flush', async () => {
      // Freeze the workers so committed messages wait as jobs in Redis when it is flushed: only the
      // outbox in PostgreSQL still knows about them. Counted are the jobs seen waiting in Redis: not
      // those a frozen worker had already taken (it finishes them when thawed), nor those of rows
      // still on their way to Redis (they may land after the flush).
      const backlog = async () => {
        const waiting = new Set((await cluster.redis.waitingJobIds('faults:routing')).map((id) => Number(id.split('-').at(-1))));
        const rows = await cluster.sql<Array<{ id: number }>>`
          select id::int from outbox where processed_at is null and kind = 'route'`;
        notWaiting = rows.filter((r) => !waiting.has(r.id)).length;
        return rows.map((r) => r.id).filter((id) => waiting.has(id));
      };
      for (const w of cluster.workers) w.pause();
      try {
        await waitFor('a backlog of routing jobs waiting in Redis', async () => (flushed = await backlog()).length >= 20, 30_000, 50);
        await cluster.redis.flushAndRestart();
      } finally {
        for (const w of cluster.workers) w.resume();
      }
    });
    // Every flushed job was recovered from the outbox: enqueued again by the sweeper, then processed.
    const [recovered] = await cluster.sql<Array<{ swept: number; done: number }>>`
      select count(*) filter (where enqueue_count > 0)::int as swept, count(*) filter (where processed_at is not null)::int as done
        from outbox where id = any(${flushed})`;
    console.log(`Redis flush: ${flushed.length} routing jobs lost with it (${notWaiting} more unacknowledged: held by a frozen worker or not yet in Redis); re-enqueued by the sweeper ${recovered?.swept}, processed ${recovered?.done}`);
    expect(recovered).toEqual({ swept: flushed.length, done: flushed.length });
  });

  it('PostgreSQL crash stop and restart', async () => {
    await underLoad('pg-restart', () => cluster.pg.restart());
  });

  it('SMSC drops the link and comes back on the same port', async () => {
    await underLoad('smsc-drop', async () => {
      const binds = cluster.smsc.boundCount;
      await cluster.smsc.stop();
      await waitFor('the link seen down', async () => (await cluster.link(linkId)).runner?.status.state !== 'up', 15_000, 50);
      await cluster.smsc.restart();
      await cluster.smsc.waitForBind(binds, 20_000);
    });
  });

  it('the IMAP server crashes (mail delivered locally meanwhile) and comes back', async () => {
    await underLoad('imap-drop', async () => {
      mail.imapUp = false;
      await dovecot.crash();
      await waitFor('the mailbox seen down', async () => (await cluster.link(mailLinkId)).runner?.status.state !== 'up', 30_000, 50);
      await dovecot.start();
      mail.imapUp = true;
      await waitFor('the mailbox up again', async () => (await cluster.link(mailLinkId)).runner?.status.state === 'up', 30_000, 50);
    });
  });

});
