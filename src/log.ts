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
const CONTENT_KEYS = ['body', 'text', 'fullText', 'shortMessage', 'address', 'detail'];
/** Where those keys are redacted: at the top of a logged object and up to two levels down. */
const REDACT = [
  ...[...SECRET_KEYS, ...CONTENT_KEYS].flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  // Addresses of a message or contact one level down (`{ message: { from, to } }`), never `err.to`-style fields deeper.
  '*.from',
  '*.to',
  '*.headers["x-twilio-signature"]',
  '*.headers["x-slack-signature"]',
];

/** A failed query's parameters (message bodies, numbers, addresses) in its message and stack. */
const QUERY_PARAMS = /\nparams: [\s\S]*?(?=\n\s+at |$)/;

/**
 * pino's error serializer, minus the values a failed query carries: drizzle
 * puts them in the message, the stack and `params`, PostgreSQL's message (in
 * the stack's "caused by") can quote one, and its `detail` can repeat a row's
 * values (redacted by key).
 */
function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (out === null || typeof out !== 'object') return out;
  for (const key of ['message', 'stack']) {
    const value = out[key];
    if (typeof value === 'string') out[key] = value.replace(QUERY_PARAMS, '\nparams: [redacted]');
  }
  if ('params' in out) {
    out.params = '[redacted]';
    // PostgreSQL's own message can quote a value ("invalid input syntax …: "<the value>""): keep its code only.
    const cause = (err as { cause?: { name?: unknown; code?: unknown } }).cause;
    if (cause && typeof out.stack === 'string') {
      out.stack = out.stack.replace(/\ncaused by: [\s\S]*$/, `\ncaused by: ${String(cause.name ?? 'Error')} ${String(cause.code ?? '')} [message redacted]`);
      if (cause.code !== undefined) out.code = cause.code;
    }
  }
  return out;
}

/** Creates the root logger; components take `log.child({ component })`. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT, censor: '[redacted]' }, serializers: { err: serializeError }, base: { service: 'lifeline' } },
    destination,
  );
}

/**
 * A child logger made on its first use. Workers bind a logger to each job's
 * ids, but most jobs log nothing, and pino serialises and redacts a child's
 * bindings when it is made: 5.5 % of the gateway's CPU in a profile at
 * 1,000 messages/s.
 */
export function lazyChild(parent: Logger, bindings: pino.Bindings): Logger {
  let made: Logger | undefined;
  return new Proxy(parent, {
    get(_target, key) {
      // A child of a child not yet made stays lazy, with both sets of bindings.
      if (key === 'child' && !made) return (more: pino.Bindings, options?: pino.ChildLoggerOptions) =>
        options ? parent.child({ ...bindings, ...more }, options) : lazyChild(parent, { ...bindings, ...more });
      made ??= parent.child(bindings);
      const value: unknown = Reflect.get(made, key, made);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(made) : value;
    },
  });
}
