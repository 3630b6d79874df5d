/**
 * The channel-specific fields of a link form (the adapters' settings and
 * secrets schemas, as inputs). Secrets are write-only: on a change, an empty
 * secret keeps the stored one.
 */
import type { Field } from './admin-form.ts';

const opts = (...values: string[]) => values.map((v) => ({ value: v, label: v }));
const secret = (path: string, label: string, editing: boolean, optional = false): Field => ({
  path,
  label,
  kind: 'password',
  optional: editing || optional,
  hint: editing ? 'Leave empty to keep the stored value.' : undefined,
});

function smpp(mode: string, editing: boolean): Field[] {
  const shared: Field[] = [
    { path: 'settings.host', label: mode === 'client' ? 'SMSC host' : 'Listen on (interface)', optional: mode === 'server' },
    { path: 'settings.port', label: 'Port', kind: 'number', step: '1' },
    { path: 'settings.systemId', label: 'system_id' },
  ];
  const modeFields: Field[] =
    mode === 'client'
      ? [
          { path: 'settings.systemType', label: 'system_type', optional: true },
          { path: 'settings.bindMode', label: 'Bind mode', kind: 'select', options: opts('transceiver', 'receiver', 'transmitter') },
          { path: 'settings.tls', label: 'TLS to the SMSC', kind: 'checkbox' },
        ]
      : [
          { path: 'settings.serverSystemId', label: 'system_id answered to peers', optional: true },
          { path: 'settings.maxPeers', label: 'Peers bound at most', kind: 'number', step: '1', optional: true },
          { path: 'settings.allowedAddresses', label: 'Allowed peer addresses (comma separated)', kind: 'list', optional: true },
        ];
  return [
    { path: 'settings.mode', label: 'Mode', kind: 'select', options: [{ value: 'client', label: 'client (bind to a carrier SMSC)' }, { value: 'server', label: 'server (peers bind to us)' }] },
    ...shared,
    ...modeFields,
    { path: 'settings.sourceAddr', label: 'Source address (replies from)', optional: true },
    { path: 'settings.window', label: 'Window (requests outstanding)', kind: 'number', step: '1', optional: true },
    { path: 'settings.throughput', label: 'Throughput (messages per second)', kind: 'number', optional: true },
    { path: 'settings.enquireLinkSeconds', label: 'enquire_link every (seconds)', kind: 'number', optional: true },
    secret('secrets.password', 'Bind password', editing),
  ];
}

const email = (editing: boolean): Field[] => [
  { path: 'settings.imap.host', label: 'IMAP host' },
  { path: 'settings.imap.port', label: 'IMAP port', kind: 'number', step: '1' },
  { path: 'settings.imap.tls', label: 'IMAP over TLS', kind: 'checkbox' },
  { path: 'settings.imap.user', label: 'IMAP user' },
  { path: 'settings.imap.folder', label: 'Folder', optional: true, hint: 'INBOX when empty' },
  secret('secrets.imapPassword', 'IMAP password', editing),
  { path: 'settings.smtp.host', label: 'SMTP host' },
  { path: 'settings.smtp.port', label: 'SMTP port', kind: 'number', step: '1' },
  { path: 'settings.smtp.tls', label: 'SMTP over TLS', kind: 'checkbox' },
  { path: 'settings.smtp.user', label: 'SMTP user', optional: true },
  secret('secrets.smtpPassword', 'SMTP password', editing, true),
  { path: 'settings.smtp.from', label: 'Replies from (address)', kind: 'email' },
  { path: 'settings.smtp.fromName', label: 'Replies from (name)' },
];

const twilio = (editing: boolean): Field[] => [
  { path: 'settings.accountSid', label: 'Account SID' },
  { path: 'settings.phoneNumbers', label: 'Phone numbers (E.164, comma separated)', kind: 'list' },
  { path: 'settings.messagingServiceSid', label: 'Messaging Service SID', optional: true },
  { path: 'settings.publicBaseUrl', label: 'Public base URL' },
  { path: 'settings.voice.mode', label: 'Calls', kind: 'select', options: opts('enqueue', 'dial') },
  { path: 'settings.voice.dialNumber', label: 'Dial number (dial mode)', optional: true },
  secret('secrets.authToken', 'Auth token', editing),
];

const slack = (editing: boolean): Field[] => [
  { path: 'settings.teamId', label: 'Team id', optional: true },
  { path: 'settings.botUserId', label: 'Bot user id', optional: true },
  { path: 'settings.channels', label: 'Channels (ids, comma separated)', kind: 'list' },
  secret('secrets.signingSecret', 'Signing secret', editing),
  secret('secrets.botToken', 'Bot token', editing),
];

/** The channels whose links administrators manage here. */
export const LINK_CHANNELS = [
  { value: 'sms', label: 'SMS (SMPP)' },
  { value: 'email', label: 'E-mail (mailbox)' },
  { value: 'twilio', label: 'Twilio' },
  { value: 'slack', label: 'Slack' },
];

/** Settings and secrets fields of a link on `channel` (SMPP: of `mode`). */
export function linkFields(channel: string, mode: string, editing: boolean): Field[] {
  switch (channel) {
    case 'sms':
      return smpp(mode === 'server' ? 'server' : 'client', editing);
    case 'email':
      return email(editing);
    case 'twilio':
      return twilio(editing);
    case 'slack':
      return slack(editing);
    default:
      return [];
  }
}
