/**
 * Typed socket requests for the pages: `emit(event, input, ack)` as a
 * promise of the contract's `Reply<T>`, with a deadline. A request made
 * while disconnected fails at once instead of sitting in Socket.IO's send
 * buffer, so the page can say so and retry (sends carry a client id, so a
 * retry is idempotent).
 */
import type { Reply } from '../realtime/events.ts';

type Params<F> = F extends (...args: infer A) => void ? A : never;

/** The events of a client-to-server map that take an input and an ack. */
export type RequestName<M> = { [K in keyof M]: Params<M[K]> extends [unknown, unknown] ? K : never }[keyof M] & string;

export type RequestInput<F> = Params<F>[0];
export type RequestData<F> = Params<F>[1] extends (reply: infer R) => void ? (R extends { ok: true; data: infer T } ? T : never) : never;

/** What `request` needs of a socket. */
export interface RequestSocket {
  readonly connected: boolean;
  emit(event: string, ...args: unknown[]): unknown;
}

/** A reply to show the user as one line. */
export function describeError(reply: { ok: false; error: { code: string; message: string; field?: string } }): string {
  const { message, field } = reply.error;
  return field ? `${field}: ${message}` : message;
}

/** A typed request function over one socket: `ask(event, input)` resolves with the reply (an error reply on timeout or when offline). */
export function requester<M>(socket: RequestSocket, timeoutMs = 10_000) {
  return <K extends RequestName<M>>(event: K, input: RequestInput<M[K]>): Promise<Reply<RequestData<M[K]>>> => {
    type R = Reply<RequestData<M[K]>>;
    if (!socket.connected) {
      return Promise.resolve<R>({ ok: false, error: { code: 'offline', message: 'not connected to the server' } });
    }
    return new Promise<R>((resolve) => {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        resolve({ ok: false, error: { code: 'timeout', message: 'the server did not answer in time' } });
      }, timeoutMs);
      socket.emit(event, input, (reply: R) => {
        if (done) return;
        clearTimeout(timer);
        resolve(reply);
      });
    });
  };
}
