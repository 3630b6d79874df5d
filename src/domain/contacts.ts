/**
 * How a citizen's address names a contact. Mirrors the rule of the
 * `lifeline_ingest` SQL function (migrations/0009): sms and voice numbers are
 * one 'phone' contact, with spaces, parentheses, dots and dashes removed, so a
 * conversation the PSAP starts reaches the same contact a text or call would.
 */
import type { Channel } from './types.ts';

/** The kind of address a contact is known by (the store's `contacts.channel`). */
export type ContactKind = 'phone' | Exclude<Channel, 'sms' | 'voice' | 'twilio'>;

/** The contact kind and address a channel's address is filed under. */
export function contactKeyOf(channel: Channel, address: string): { kind: ContactKind; address: string } {
  if (channel === 'sms' || channel === 'voice' || channel === 'twilio') {
    // [[:space:]().-] in the SQL function; an address made only of punctuation stays as it was.
    const bare = address.replace(/[\s().-]/g, '');
    return { kind: 'phone', address: bare === '' ? address : bare };
  }
  return { kind: channel, address };
}
