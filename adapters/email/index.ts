/**
 * E-mail: mailboxes administrators add at run time
 * (`POST /api/links {channel: 'email'}`), each read by one process under the
 * link supervisor's lease (mailbox.ts). Replies go out over the link's SMTP
 * with threading headers (reply.ts); a conversation whose last inbound mail
 * was a bounce or an auto-reply is never answered.
 *
 * Threading of inbound mail: a mail whose In-Reply-To/References names one of
 * our replies (or the citizen's earlier mail) joins that conversation, which
 * is reopened if it was resolved; otherwise the sender's open conversation,
 * or a new one.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { LinkConfig, LinkRunner, LinkStatus } from '../../src/channel.ts';
import { ChannelSendError } from '../../src/errors.ts';
import { getAttachmentContent, type IncomingAttachment } from '../../src/store/attachments.ts';
import { getEmailThread } from '../../src/store/mailbox-state.ts';
import type { AdapterDeps, ChannelAdapter, OutboundMessage, SendResult } from '../types.ts';
import { emailSecretsSchema, emailSettingsSchema, parseEmailLink, type EmailSecrets, type EmailSettings } from './config.ts';
import { Mailbox } from './mailbox.ts';
import { buildReply } from './reply.ts';

/** Adapter options; tests shorten the reconnect backoff. */
export interface EmailAdapterOptions {
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

interface RunningLink {
  mailbox: Mailbox;
  settings: EmailSettings;
  secrets: EmailSecrets;
  transport: Transporter;
}

/**
 * Why a mail must not go out, or null. A bounce or an auto-reply is never
 * answered (that is how mail loops start); a sender over the hourly limit
 * still gets a call-taker's reply, but no automatic notice.
 */
function refuseReason(lastAutomatic: string | null, kind: OutboundMessage['kind']): string | null {
  if (lastAutomatic === 'bounce' || lastAutomatic === 'auto-reply') return `not answering an automatic mail (${lastAutomatic})`;
  if (lastAutomatic === 'rate-limited' && kind === 'system') return 'no automatic notice to a sender over the hourly mail limit';
  return null;
}

/** The contents of a reply's attachments, from the store. */
async function loadFiles(deps: AdapterDeps, message: OutboundMessage): Promise<IncomingAttachment[]> {
  const files: IncomingAttachment[] = [];
  for (const a of message.attachments) {
    const content = a.sha256 ? await getAttachmentContent(deps.db, a.sha256) : undefined;
    if (!content) throw new ChannelSendError(`attachment ${a.name} is not in the store`, { retryable: false });
    files.push({ name: a.name, contentType: a.contentType, content });
  }
  return files;
}

/** Creates the e-mail channel adapter. Nothing connects until a link is started. */
export function createEmailAdapter(options: EmailAdapterOptions = {}): ChannelAdapter {
  const links = new Map<string, RunningLink>();
  let deps: AdapterDeps | undefined;

  async function stopLink(linkId: string): Promise<void> {
    const running = links.get(linkId);
    if (!running) return;
    links.delete(linkId);
    running.transport.close();
    await running.mailbox.stop();
  }

  const runner: LinkRunner = {
    schemas: { settings: emailSettingsSchema, secrets: emailSecretsSchema },
    parse: (input) => {
      const parsed = parseEmailLink(input);
      return { settings: parsed.settings as unknown as Record<string, unknown>, secrets: parsed.secrets as Record<string, string> };
    },

    async start(link: LinkConfig) {
      if (!deps) throw new Error('the e-mail adapter is not started');
      await stopLink(link.id);
      const { settings, secrets } = parseEmailLink(link);
      const smtp = settings.smtp;
      const transport = nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.tls,
        ...(smtp.tls ? {} : { ignoreTLS: true }),
        ...(smtp.user !== undefined && secrets.smtpPassword !== undefined ? { auth: { user: smtp.user, pass: secrets.smtpPassword } } : {}),
      });
      const mailbox = new Mailbox({
        linkId: link.id,
        name: link.name,
        settings,
        secrets,
        deps,
        ...(options.reconnectMinMs !== undefined ? { reconnectMinMs: options.reconnectMinMs } : {}),
        ...(options.reconnectMaxMs !== undefined ? { reconnectMaxMs: options.reconnectMaxMs } : {}),
      });
      links.set(link.id, { mailbox, settings, secrets, transport });
      mailbox.start();
    },

    stop: stopLink,

    status(linkId: string): LinkStatus | undefined {
      return links.get(linkId)?.mailbox.status();
    },
  };

  return {
    channel: 'email',
    links: runner,

    async start(d: AdapterDeps) {
      deps = d;
    },

    async stop() {
      await Promise.allSettled([...links.keys()].map((id) => stopLink(id)));
    },

    async send(message: OutboundMessage): Promise<SendResult> {
      const running = links.get(message.channelLinkId);
      if (!running || !deps) {
        throw new ChannelSendError('the mailbox of this conversation is not running in this process', { retryable: true });
      }
      const thread = await getEmailThread(deps.db, message.conversationId);
      const refusal = refuseReason(thread.lastAutomatic, message.kind);
      if (refusal) throw new ChannelSendError(refusal, { retryable: false });
      const files = await loadFiles(deps, message);
      const { messageId, mail } = buildReply(message, thread, { from: running.settings.smtp.from, fromName: running.settings.smtp.fromName }, files);
      try {
        await running.transport.sendMail(mail);
      } catch (err) {
        running.mailbox.counters.sendFailures = (running.mailbox.counters.sendFailures ?? 0) + 1;
        const code = (err as { responseCode?: number }).responseCode;
        const permanent = typeof code === 'number' && code >= 500 && code < 600;
        throw new ChannelSendError(`SMTP: ${err instanceof Error ? err.message : String(err)}`, { retryable: !permanent, cause: err });
      }
      running.mailbox.counters.messagesOut = (running.mailbox.counters.messagesOut ?? 0) + 1;
      return { status: 'sent', channelMessageId: messageId };
    },
  };
}
