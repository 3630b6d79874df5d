/**
 * An SMTP server on a free loopback port that keeps every mail it receives,
 * raw and parsed, for tests to assert on what citizens would get. Plain SMTP
 * (no STARTTLS), authentication optional: nodemailer connects with
 * `ignoreTLS: true`.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitFor } from './wait.ts';

/** One mail the sink received. */
export interface ReceivedMail {
  /** Envelope sender (MAIL FROM); '' for the null path. */
  mailFrom: string;
  /** Envelope recipients (RCPT TO). */
  rcptTo: string[];
  /** The user that logged in, if any. */
  user?: string;
  raw: Buffer;
  parsed: ParsedMail;
}

/** A running SMTP sink. */
export interface SmtpSink {
  readonly host: string;
  readonly port: number;
  readonly received: ReceivedMail[];
  /** Resolves with the first received mail that matches, or rejects at the deadline. */
  waitForMail(match?: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  stop(): Promise<void>;
}

/** Starts a sink; `credentials` makes it accept only that login (and still allow none). */
export async function startSmtpSink(credentials?: { user: string; password: string }): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (credentials && auth.username === credentials.user && auth.password === credentials.password) {
        callback(null, { user: auth.username });
        return;
      }
      callback(new Error('invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            const from = session.envelope.mailFrom;
            received.push({
              mailFrom: from === false ? '' : from.address,
              rcptTo: session.envelope.rcptTo.map((r) => r.address),
              ...(typeof session.user === 'string' ? { user: session.user } : {}),
              raw,
              parsed,
            });
            callback();
          },
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port: address.port,
    received,
    waitForMail(match = () => true, timeoutMs = 10_000) {
      return waitFor('a mail at the SMTP sink', () => received.find(match), timeoutMs);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
