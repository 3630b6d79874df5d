/**
 * The fault suite's clients: web-chat citizens (socket.io-client), an SMSC
 * delivering SMS to a client-mode link, and agents that accept every offer
 * and open what they hold, as the console does. Every message carries a
 * unique body (`<phase>:<channel>:<n>`), so what was accepted, stored and
 * shown can be matched one to one.
 *
 * The clients behave like real ones under faults: a citizen's page resends a
 * message with the same client id until it is acknowledged; the SMSC resends
 * a deliver_sm with the same sequence number until it is answered with
 * ESME_ROK; an agent's console reconnects, lists its conversations, accepts
 * what is offered to it and reopens what it holds (pages resync from the
 * store on reconnect, pushes are hints).
 */
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { ConversationDetail, ConversationView, MessageView, Reply } from '../../src/realtime/events.ts';
import type { AgentSocket, CitizenSocket } from '../support/gateway.ts';
import type { Dovecot } from '../support/dovecot.ts';
import type { FakeSmsc } from '../support/smsc.ts';
import { waitFor } from '../support/wait.ts';

/** Client-side reconnection: quick, so recovery is measured on the gateway, not on client back-off. */
const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500, randomizationFactor: 0 } as const;
/** How long a sent message may take to be acknowledged before the client resends it. */
const ACK_TIMEOUT_MS = 4000;
/** Clients stop resending after this long: a message never accepted is reported, not waited for forever. */
const GIVE_UP_MS = 90_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function emitWithAck<T>(socket: AgentSocket | CitizenSocket, event: string, input: unknown, timeoutMs = ACK_TIMEOUT_MS): Promise<Reply<T>> {
  const timed = socket.timeout(timeoutMs) as unknown as { emitWithAck(event: string, input: unknown): Promise<Reply<T>> };
  return timed.emitWithAck(event, input);
}

/** Resolves once the socket is connected, or after `ms` anyway (the caller retries). */
function connected(client: AgentSocket | CitizenSocket, ms: number): Promise<void> {
  const socket = client as unknown as Socket;
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.off('connect', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    socket.on('connect', done);
  });
}

/** What one message went through. */
export interface Sent {
  key: string;
  channel: 'webchat' | 'sms' | 'email';
  phase: string;
  sentAt: number;
  /** When the channel acknowledged it (ack ok / deliver_sm_resp ESME_ROK). */
  acceptedAt?: number;
  /** Sends of it, first included. */
  attempts: number;
  lastError?: string;
}

/** A citizen on the web chat with a resumable session. */
export class ChatCitizen {
  private constructor(
    readonly index: number,
    readonly socket: CitizenSocket,
  ) {}

  static async connect(url: string, index: number): Promise<ChatCitizen> {
    const socket: CitizenSocket = io(`${url}/citizen`, { ...RECONNECT, transports: ['websocket'], forceNew: true, auth: {} });
    await waitFor(`citizen ${index} to connect to ${url}`, () => socket.connected, 20_000);
    const reply = await emitWithAck<{ token: string }>(socket, 'session:start', { name: `Fault citizen ${index}` }, 10_000);
    if (!reply.ok) throw new Error(`session:start: ${reply.error.code}`);
    // A reconnect resumes the same session (the chat page keeps its token).
    socket.auth = { token: reply.data.token };
    socket.disconnect().connect();
    await waitFor(`citizen ${index} to reconnect with its session`, () => socket.connected, 20_000);
    return new ChatCitizen(index, socket);
  }

  /** Sends until acknowledged (same client id every time) or until giving up. */
  async send(record: Sent, text: string): Promise<void> {
    const clientId = `${record.key}:${randomUUID().slice(0, 8)}`;
    const deadline = Date.now() + GIVE_UP_MS;
    while (Date.now() < deadline) {
      await connected(this.socket, ACK_TIMEOUT_MS);
      record.attempts += 1;
      try {
        const reply = await emitWithAck<{ id: number }>(this.socket, 'message:send', { clientId, text });
        if (reply.ok) {
          record.acceptedAt = Date.now();
          return;
        }
        record.lastError = reply.error.code;
        // Rate limited or a store failure: the page says "try again"; the citizen does.
        await pause(reply.error.code === 'rate_limited' ? 300 : 150);
      } catch (err) {
        record.lastError = err instanceof Error ? err.message : String(err);
      }
    }
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** The carrier side: delivers texts through the SMSC and resends them until answered with ESME_ROK. */
export class SmsSender {
  private sequence = 700_000;

  constructor(private readonly smsc: FakeSmsc) {}

  async send(record: Sent, from: string, text: string): Promise<void> {
    const sequence = this.sequence++;
    const deadline = Date.now() + GIVE_UP_MS;
    while (Date.now() < deadline) {
      record.attempts += 1;
      try {
        const resp = await this.smsc.deliver(
          { source_addr: from, source_addr_ton: 1, source_addr_npi: 1, destination_addr: '911', data_coding: 0, short_message: Buffer.from(text, 'latin1'), sequence_number: sequence },
          'deliver_sm',
          ACK_TIMEOUT_MS,
        );
        if (resp.command_status === 0) {
          record.acceptedAt = Date.now();
          return;
        }
        record.lastError = `status 0x${resp.command_status.toString(16)}`;
      } catch (err) {
        record.lastError = err instanceof Error ? err.message : String(err);
      }
      // No bound session (the link is moving or rebinding) or a temporary error: the SMSC retries shortly.
      await pause(100);
    }
  }
}

/**
 * The citizens' mail host: appends each mail over IMAP while Dovecot is up;
 * while it is down, delivers into the maildir the way a local delivery agent
 * does. A mail is accepted once the mailbox holds it. Each has its own
 * Message-ID, so one written twice (an APPEND whose answer was lost) is one mail.
 */
export class MailSender {
  /** False while the test has Dovecot stopped. */
  imapUp = true;

  constructor(private readonly dovecot: Dovecot) {}

  async send(record: Sent, from: string, text: string): Promise<void> {
    const raw = [
      `From: Citizen <${from}>`,
      'To: 911 <psap@test.local>',
      `Message-ID: <${record.key}.${randomUUID()}@citizen.test>`,
      `Date: ${new Date().toUTCString()}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      text,
      '',
    ].join('\r\n');
    const deadline = Date.now() + GIVE_UP_MS;
    while (Date.now() < deadline) {
      record.attempts += 1;
      try {
        if (this.imapUp) await this.dovecot.appendMail(raw);
        else await this.dovecot.deliverToMaildir(raw);
        record.acceptedAt = Date.now();
        return;
      } catch (err) {
        record.lastError = err instanceof Error ? err.message : String(err);
        if (this.imapUp) {
          // Dovecot is going away: the mail host delivers locally instead.
          try {
            await this.dovecot.deliverToMaildir(raw);
            record.acceptedAt = Date.now();
            return;
          } catch (again) {
            record.lastError = again instanceof Error ? again.message : String(again);
          }
        }
      }
      await pause(100);
    }
  }
}

/** An agent console that accepts every offer and opens what it holds. */
export class AgentConsole {
  /** Message bodies seen, with how (a push, or the conversation opened / reopened). */
  readonly seen = new Map<string, 'push' | 'open'>();
  /** Pushes of a body seen before. */
  pushRepeats = 0;
  /** Every offer pushed to this console: conversation id and when. */
  readonly offers: Array<{ conversationId: string; at: number }> = [];
  readonly held = new Set<string>();
  readonly errors: string[] = [];
  reconnects = 0;
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    readonly id: string,
    readonly username: string,
    readonly socket: AgentSocket,
  ) {
    socket.on('conversation:offered', (view: ConversationView) => {
      this.offers.push({ conversationId: view.id, at: Date.now() });
      // An offer is taken at once, whatever else the console is doing.
      this.take(view.id).catch((err: unknown) => this.errors.push(err instanceof Error ? err.message : String(err)));
    });
    socket.on('message:new', (m: MessageView) => this.mark(m, 'push'));
    socket.io.on('reconnect', () => {
      this.reconnects += 1;
      this.serial(() => this.resync());
    });
  }

  static async connect(url: string, account: { id: string; username: string; token: string }): Promise<AgentConsole> {
    const socket: AgentSocket = io(`${url}/agent`, { ...RECONNECT, transports: ['websocket'], forceNew: true, auth: { token: account.token } });
    await waitFor(`agent ${account.username} to connect to ${url}`, () => socket.connected, 20_000);
    const agent = new AgentConsole(account.id, account.username, socket);
    const reply = await emitWithAck(socket, 'presence:set', { presence: 'available' }, 10_000);
    if (!reply.ok) throw new Error(`presence:set: ${reply.error.code}`);
    return agent;
  }

  private mark(m: MessageView, how: 'push' | 'open'): void {
    if (m.direction !== 'inbound') return;
    if (this.seen.has(m.body)) {
      if (how === 'push') this.pushRepeats += 1;
      return;
    }
    this.seen.set(m.body, how);
  }

  /** Resyncs run one at a time; failures are recorded (the next resync repairs them). */
  private serial(action: () => Promise<void>): void {
    this.chain = this.chain.then(action).catch((err: unknown) => {
      this.errors.push(err instanceof Error ? err.message : String(err));
    });
  }

  private async take(conversationId: string): Promise<void> {
    const accepted = await emitWithAck<ConversationView>(this.socket, 'conversation:accept', { conversationId });
    // Accepting one already accepted by this agent succeeds; one no longer offered to it is recorded.
    if (!accepted.ok) {
      this.errors.push(`accept ${conversationId}: ${accepted.error.code} ${accepted.error.message}`);
      return;
    }
    await this.open(conversationId);
  }

  private async open(conversationId: string): Promise<void> {
    const opened = await emitWithAck<ConversationDetail>(this.socket, 'conversation:open', { conversationId });
    if (!opened.ok) throw new Error(`open ${conversationId}: ${opened.error.code}`);
    if (opened.data.conversation.agentId === this.id) this.held.add(conversationId);
    for (const m of opened.data.messages) this.mark(m, 'open');
  }

  /** After a reconnect: what the console does on load. */
  async resync(): Promise<void> {
    const listed = await emitWithAck<ConversationView[]>(this.socket, 'conversation:list', {});
    if (!listed.ok) throw new Error(`list: ${listed.error.code}`);
    for (const c of listed.data) {
      if (c.agentId !== this.id) continue;
      if (c.status === 'offered') await this.take(c.id);
      else await this.open(c.id);
    }
  }

  /** Queues a resync (e.g. after a fault that may have lost pushes without a reconnect). */
  requestResync(): void {
    this.serial(() => this.resync());
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** One stream of the steady load: a channel, its pace, and how one message is sent. */
export interface Lane {
  channel: Sent['channel'];
  everyMs: number;
  /** Sends message `n` of the lane (its text is the record's key). */
  send(record: Sent, n: number): Promise<void>;
}

/**
 * A steady paced load over several lanes (web chat, SMS, e-mail).
 * `begin(phase)` starts a phase; `end()` stops offering and waits until
 * every message of it is accepted or given up.
 */
export class SteadyLoad {
  readonly sent: Sent[] = [];
  private timers: NodeJS.Timeout[] = [];
  private inFlight = new Set<Promise<void>>();
  private counters = new Map<string, number>();
  private phase = '';

  constructor(private readonly lanes: Lane[]) {}

  begin(phase: string): void {
    this.phase = phase;
    for (const lane of this.lanes) {
      let n = 0;
      this.timers.push(
        setInterval(() => {
          const record = this.record(lane.channel);
          this.track(lane.send(record, n++));
        }, lane.everyMs),
      );
    }
  }

  private record(channel: Sent['channel']): Sent {
    const n = (this.counters.get(channel) ?? 0) + 1;
    this.counters.set(channel, n);
    const record: Sent = { key: `${this.phase}:${channel}:${n}`, channel, phase: this.phase, sentAt: Date.now(), attempts: 0 };
    this.sent.push(record);
    return record;
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Messages of the phase accepted after `since`. */
  acceptedSince(phase: string, since: number): number {
    return this.sent.filter((r) => r.phase === phase && r.acceptedAt !== undefined && r.acceptedAt > since).length;
  }

  /** Messages of the phase sent at or after `since` and accepted. */
  acceptedSentSince(phase: string, since: number): number {
    return this.sent.filter((r) => r.phase === phase && r.acceptedAt !== undefined && r.sentAt >= since).length;
  }

  ofPhase(phase: string): Sent[] {
    return this.sent.filter((r) => r.phase === phase);
  }

  /** Stops offering; resolves once every message sent is accepted or given up. */
  async end(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    await Promise.all([...this.inFlight]);
  }
}
