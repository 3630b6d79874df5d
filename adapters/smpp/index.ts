/**
 * SMS over SMPP: carrier links administrators add at run time
 * (`POST /api/links {channel: 'sms'}`), each run by one process under the
 * link supervisor's lease. Client mode: the gateway binds to the carrier's
 * SMSC as an ESME (client.ts). Server mode: carriers, aggregators or text
 * control centres bind to the gateway (server.ts).
 *
 * Replies reach `send` through the link's own delivery queue, which only the
 * process running the link consumes (see src/queue/catalog.ts). A reply for a
 * link that is not bound right now fails as retryable; the queue's retries
 * deliver it once the link is bound again.
 */
import type { LinkConfig, LinkRunner, LinkStatus } from '../../src/channel.ts';
import { ChannelSendError } from '../../src/errors.ts';
import type { AdapterDeps, ChannelAdapter, OutboundMessage, SendResult } from '../types.ts';
import { SmppClientLink } from './client.ts';
import { smppSecretsSchema, smppSettingsSchema, parseSmppLink } from './config.ts';
import type { SmppLink } from './link.ts';
import { SmppServerLink } from './server.ts';

/** Adapter options; tests shorten the parts check. */
export interface SmppAdapterOptions {
  /** How often each link checks stored parts for completeness or timeout (default 5 s). */
  partsCheckIntervalMs?: number;
}

/** Creates the SMS (SMPP) channel adapter. Nothing connects until a link is started. */
export function createSmppAdapter(options: SmppAdapterOptions = {}): ChannelAdapter {
  const links = new Map<string, SmppLink>();
  let deps: AdapterDeps | undefined;

  const runner: LinkRunner = {
    schemas: { settings: smppSettingsSchema, secrets: smppSecretsSchema },
    parse: (input) => {
      const parsed = parseSmppLink(input);
      return { settings: parsed.settings, secrets: parsed.secrets };
    },

    async start(link: LinkConfig) {
      if (!deps) throw new Error('the SMS adapter is not started');
      await links.get(link.id)?.stop();
      const { settings, secrets } = parseSmppLink(link);
      const common = { linkId: link.id, name: link.name, secrets, deps, partsCheckIntervalMs: options.partsCheckIntervalMs ?? 5000 };
      const running: SmppLink =
        settings.mode === 'client'
          ? new SmppClientLink({ ...common, settings })
          : new SmppServerLink({ ...common, settings });
      links.set(link.id, running);
      running.start();
    },

    async stop(linkId: string) {
      const client = links.get(linkId);
      if (!client) return;
      links.delete(linkId);
      await client.stop();
    },

    status(linkId: string): LinkStatus | undefined {
      return links.get(linkId)?.status();
    },
  };

  return {
    channel: 'sms',
    links: runner,

    async start(d: AdapterDeps) {
      deps = d;
    },

    async stop() {
      const running = [...links.values()];
      links.clear();
      await Promise.allSettled(running.map((l) => l.stop()));
    },

    async send(message: OutboundMessage): Promise<SendResult> {
      const client = links.get(message.channelLinkId);
      if (!client) {
        throw new ChannelSendError('the SMS link of this conversation is not running in this process', { retryable: true });
      }
      return client.send(message);
    },
  };
}
