/**
 * The channel normalisers on thousands of random and mutated inputs: the
 * e-mail normaliser never rejects (raw MIME mutated), the Slack classifier
 * never throws, Twilio's parameter readers throw only ValidationError.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentBody, normaliseEmail, toInboundMessage } from '../../../adapters/email/normalise.ts';
import { classifySlackPayload, slackToPlainText, type ClassifySettings } from '../../../adapters/slack/normalise.ts';
import {
  callStatusOf,
  deliveryFromMessageStatus,
  describeErrorCode,
  isWithheld,
  parseCallParams,
  parseSmsWebhook,
  queueOutcome,
  type WebhookParams,
} from '../../../adapters/twilio/normalise.ts';
import { ValidationError } from '../../../src/errors.ts';
import { mutateBytes, mutateValue, randomValue, seeded, watchUnhandledRejections } from './support.ts';

watchUnhandledRejections();

const fixtures = (dir: string) => {
  const url = new URL(`../../fixtures/${dir}/`, import.meta.url);
  return readdirSync(url).map((name) => readFileSync(new URL(name, url)));
};

describe('e-mail normaliser fuzz', () => {
  it('normalises every mutated raw message to strings, never rejecting', async () => {
    const prng = seeded('email');
    const samples = fixtures('email');
    const receivedAt = new Date('2024-06-04T14:15:03Z');
    const MIME = ['\r\n\r\n', 'Content-Type: multipart/mixed; boundary="b"\r\n', '--b\r\n', '--b--', 'Content-Transfer-Encoding: base64\r\n', '=?utf-8?B?', '=\r\n', 'charset=x-unknown', '\u0000'];
    for (let round = 0; round < 1500; round++) {
      let raw = mutateBytes(prng, prng.pick(samples));
      if (prng.next() < 0.4) {
        const at = prng.int(0, raw.length);
        raw = Buffer.concat([raw.subarray(0, at), Buffer.from(prng.pick(MIME), 'latin1'), raw.subarray(at)]);
      }
      const email = await normaliseEmail(raw, { maxAttachmentBytes: prng.pick([0, 100, 10_000_000]), receivedAt });
      for (const value of [email.from, email.subject, email.text, email.fullText, email.channelMessageId]) expect(typeof value).toBe('string');
      expect(email.channelMessageId.length).toBeGreaterThan(0);
      expect(typeof agentBody(email)).toBe('string');
      const inbound = toInboundMessage(email, 'link', [], 500);
      expect(inbound.text.length).toBeLessThanOrEqual(500);
    }
  }, 30_000);
});

describe('Slack classifier fuzz', () => {
  it('classifies every random or mutated payload without throwing', () => {
    const prng = seeded('slack');
    const samples = fixtures('slack').map((b) => JSON.parse(b.toString()) as unknown);
    const settings: ClassifySettings = { channels: ['C0WATCHED'], botUserId: 'UBOT', teamId: undefined } as ClassifySettings;
    const kinds = new Set<string>();
    for (let round = 0; round < 5000; round++) {
      const payload = prng.next() < 0.8 ? mutateValue(prng, prng.pick(samples)) : randomValue(prng, 4);
      const outcome = classifySlackPayload(payload, settings, new Date(prng.int(0, 2 ** 41)));
      expect(typeof outcome.kind).toBe('string');
      kinds.add(outcome.kind);
      expect(typeof slackToPlainText(String((payload as { event?: { text?: unknown } })?.event?.text ?? ''))).toBe('string');
    }
    expect(kinds.size).toBeGreaterThan(2);
  });
});

describe('Twilio parameter fuzz', () => {
  it('reads webhook parameters or refuses them with ValidationError only', () => {
    const prng = seeded('twilio');
    const valid: WebhookParams = {
      MessageSid: `SM${'a'.repeat(32)}`,
      CallSid: `CA${'b'.repeat(32)}`,
      AccountSid: `AC${'c'.repeat(32)}`,
      From: '+15550100001',
      To: '+15550100911',
      Body: 'help',
      NumMedia: '1',
      MediaUrl0: 'https://api.twilio.com/x',
      MediaContentType0: 'image/png',
      CallStatus: 'completed',
      MessageStatus: 'delivered',
      ErrorCode: '30003',
    };
    const counts = { ok: 0, refused: 0 };
    const str = () => (prng.next() < 0.5 ? String(randomValue(prng, 0)) : prng.bytes(prng.int(0, 40)).toString('latin1'));
    for (let round = 0; round < 5000; round++) {
      const params: WebhookParams = { ...valid };
      for (const key of Object.keys(params)) {
        const roll = prng.next();
        if (roll < 0.08) delete params[key];
        else if (roll < 0.16) params[key] = str();
        else if (roll < 0.2) params[key] = [str(), str()];
        else if (roll < 0.22) params[key] = undefined;
      }
      if (prng.next() < 0.1) params.NumMedia = String(prng.pick([-1, 0, 10, 11, 1e9, 1.5]));
      for (const read of [parseSmsWebhook, parseCallParams] as Array<(p: WebhookParams) => unknown>) {
        try {
          read(params);
          counts.ok++;
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          counts.refused++;
        }
      }
      const text = typeof params.From === 'string' ? params.From : '';
      expect(typeof isWithheld(text)).toBe('boolean');
      void callStatusOf(params.CallStatus as string | undefined);
      void queueOutcome(params.QueueResult as string | undefined);
      void describeErrorCode(params.ErrorCode as string | undefined);
      const delivery = deliveryFromMessageStatus(params.MessageStatus as string | undefined, params.ErrorCode as string | undefined);
      if (delivery) expect(typeof delivery.status).toBe('string');
    }
    expect(counts.ok).toBeGreaterThan(500);
    expect(counts.refused).toBeGreaterThan(500);
  });
});
