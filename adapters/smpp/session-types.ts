/**
 * The types an SMPP session is configured and answered with, and the error
 * its requests fail with (session.ts re-exports them).
 */
import type { PDU } from 'smpp';
import type { Logger } from '../../src/log.ts';
import type { MessagePdu } from './wire.ts';

/** Per-link counters the session adds to (they outlive the session). */
export type Counters = Record<string, number>;

/** Why a request got no usable answer. `retryable` is false only for a definite refusal. */
export class SmppRequestError extends Error {
  override readonly name = 'SmppRequestError';
  constructor(
    message: string,
    readonly reason: 'timeout' | 'closed' | 'write',
    readonly retryable = true,
  ) {
    super(message);
  }
}

/** How a peer is bound. */
export type BindMode = 'transceiver' | 'receiver' | 'transmitter';

/** What a message PDU is answered with; `afterAnswer` runs once the response is written. */
export interface MessageAnswer {
  status: number;
  /** message_id of a submit_sm_resp / data_sm_resp. */
  messageId?: string;
  afterAnswer?: () => void;
}

/** What a bind is answered with (SMSC side). */
export interface BindAnswer {
  status: number;
  /** The system_id in the bind response. */
  systemId: string;
}

/** Session settings. */
export interface SessionOptions {
  /** Which end of the bind this session is (default `esme`). */
  side?: 'esme' | 'smsc';
  window: number;
  /** submit_sm per second. */
  throughput: number;
  enquireLinkMs: number;
  responseTimeoutMs: number;
  /** Consecutive request timeouts that mark the peer dead (default 3). */
  maxTimeouts?: number;
  log: Logger;
  counters: Counters;
  /** Handles a message PDU; resolves with the command_status (or the whole answer) to respond with. */
  onMessage(pdu: MessagePdu): Promise<number | MessageAnswer>;
  /** SMSC side: checks a bind_* request; the session is bound once this answers ESME_ROK, closed otherwise. */
  onBind?(pdu: PDU, mode: BindMode): BindAnswer;
}

/** How a request is sent. */
export interface RequestOptions {
  /** Waits for a throughput token first (submits). */
  paced?: boolean;
  /** Skips the window (enquire_link, unbind): liveness is checked even when the window is full. */
  control?: boolean;
  timeoutMs?: number;
}
