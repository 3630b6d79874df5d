/**
 * pino loggers. Message bodies, addresses, passwords, tokens and secrets are
 * redacted wherever they appear in a logged object, down to two levels
 * (test/integration/log-redaction.test.ts watches a gateway's whole output).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Keys whose values never reach a log: credentials, message content, contact addresses. */
const SECRET_KEYS = [
  'password',
  'passwordHash',
  'imapPassword',
  'smtpPassword',
  'token',
  'botToken',
  'authToken',
  'secret',
  'secrets',
  'signingSecret',
  'authorization',
  'cookie',
];
const CONTENT_KEYS = ['body', 'text', 'fullText', 'shortMessage', 'address'];
/** Where those keys are redacted: at the top of a logged object and up to two levels down. */
const REDACT = [
  ...[...SECRET_KEYS, ...CONTENT_KEYS].flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  // Addresses of a message or contact one level down (`{ message: { from, to } }`), never `err.to`-style fields deeper.
  '*.from',
  '*.to',
  '*.headers["x-twilio-signature"]',
  '*.headers["x-slack-signature"]',
];

/** Creates the root logger; components take `log.child({ component })`. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'lifeline' } }, destination);
}
