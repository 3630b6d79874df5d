/**
 * Answers a socket request's acknowledgement: `{ ok: true, data }`, a coded
 * client error, or (for anything unexpected, which is logged) a generic one.
 */
import { AppError } from '../errors.ts';
import type { Ack } from './events.ts';

export async function answer<T>(
  ack: unknown,
  run: () => Promise<T>,
  onUnexpected: (err: unknown) => void,
  unexpectedMessage = 'internal error',
): Promise<void> {
  const reply = (typeof ack === 'function' ? ack : () => undefined) as Ack<T>;
  try {
    reply({ ok: true, data: await run() });
  } catch (err) {
    if (err instanceof AppError && err.status < 500) {
      reply({ ok: false, error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
      return;
    }
    onUnexpected(err);
    reply({ ok: false, error: { code: 'internal', message: unexpectedMessage } });
  }
}
