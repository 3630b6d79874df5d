/**
 * Prometheus metrics, one registry per gateway (no global singleton, so tests
 * can run several gateways in one process).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Answer-time buckets (seconds) around 911 answer targets: most within 15-20 s, few past 60 s. */
export const ANSWER_SECONDS_BUCKETS = [5, 10, 15, 20, 30, 45, 60, 90, 120, 300];

export interface Metrics {
  readonly registry: Registry;
  readonly received: Counter<'channel'>;
  readonly duplicates: Counter<'channel'>;
  readonly stored: Counter<'channel'>;
  /** Outbound messages (replies and system texts) by the outcome of their delivery: sent or failed for good. */
  readonly outbound: Counter<'channel' | 'status'>;
  /** Seconds from a conversation's first message to its first accept, observed at that accept. */
  readonly answerSeconds: Histogram<'channel'>;
  /** Open conversations not yet accepted (queued or offered) per queue, read from the store at scrape. */
  readonly queueWaiting: Gauge<'queue'>;
  readonly queueDepth: Gauge<'queue'>;
  readonly linkUp: Gauge<'link' | 'channel'>;
  readonly linkCounter: Gauge<'link' | 'counter'>;
  readonly linkError: Gauge<'link'>;
  readonly linkLastSync: Gauge<'link'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lifeline_process_' });
  const metrics: Metrics = {
    registry,
    received: new Counter({ name: 'lifeline_messages_received_total', help: 'Inbound messages handed to ingest', labelNames: ['channel'], registers: [registry] }),
    duplicates: new Counter({ name: 'lifeline_messages_duplicate_total', help: 'Inbound messages dropped as duplicates', labelNames: ['channel'], registers: [registry] }),
    stored: new Counter({ name: 'lifeline_messages_stored_total', help: 'Inbound messages committed to the store', labelNames: ['channel'], registers: [registry] }),
    outbound: new Counter({
      name: 'lifeline_messages_outbound_total',
      help: 'Outbound messages handed to a channel: status sent, or failed for good after its attempts',
      labelNames: ['channel', 'status'],
      registers: [registry],
    }),
    answerSeconds: new Histogram({
      name: 'lifeline_answer_seconds',
      help: 'Seconds from the first message of a conversation to its first accept by an agent',
      labelNames: ['channel'],
      buckets: ANSWER_SECONDS_BUCKETS,
      registers: [registry],
    }),
    queueWaiting: new Gauge({
      name: 'lifeline_queue_waiting_conversations',
      help: 'Open conversations not yet accepted (queued or offered), per queue',
      labelNames: ['queue'],
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: 'lifeline_queue_depth', help: 'Jobs waiting, active or delayed', labelNames: ['queue'], registers: [registry] }),
    linkUp: new Gauge({ name: 'lifeline_link_up', help: '1 when the channel link is up (bound, connected), else 0', labelNames: ['link', 'channel'], registers: [registry] }),
    linkCounter: new Gauge({
      name: 'lifeline_link_counter',
      help: 'Counters a running link reports (PDUs and messages in and out, throttled, receipts, reconnects)',
      labelNames: ['link', 'counter'],
      registers: [registry],
    }),
    linkError: new Gauge({ name: 'lifeline_link_error', help: '1 when the link reports a last error (see GET /api/links), else 0', labelNames: ['link'], registers: [registry] }),
    linkLastSync: new Gauge({
      name: 'lifeline_link_last_sync_timestamp_seconds',
      help: 'When a mailbox link last finished reading its folder (Unix time)',
      labelNames: ['link'],
      registers: [registry],
    }),
  };
  return metrics;
}
