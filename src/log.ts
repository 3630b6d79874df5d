/**
 * pino loggers. Message bodies, addresses, passwords and tokens are redacted
 * wherever they appear in a logged object.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'body',
  'text',
  'password',
  'token',
  'address',
  'authorization',
  '*.body',
  '*.text',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.address',
  '*.from',
  '*.to',
  'req.headers.authorization',
  'req.headers.cookie',
];

/** Creates the root logger; components take `log.child({ component })`. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'lifeline' } }, destination);
}
