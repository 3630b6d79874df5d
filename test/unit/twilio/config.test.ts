import { describe, expect, it } from 'vitest';
import { parseTwilioLink } from '../../../adapters/twilio/config.ts';
import { ValidationError } from '../../../src/errors.ts';

const settings = {
  accountSid: `AC${'a1'.repeat(16)}`,
  phoneNumbers: ['+15550100911'],
  publicBaseUrl: 'https://psap.example.org/lifeline/',
};
const secrets = { authToken: 'f'.repeat(32) };

/** The field a ValidationError names, or the error if something else was thrown. */
function fieldOf(input: { settings: unknown; secrets: unknown }): string | undefined {
  try {
    parseTwilioLink(input);
  } catch (err) {
    if (err instanceof ValidationError) return err.field;
    throw err;
  }
  return undefined;
}

describe('parseTwilioLink', () => {
  it('fills in the defaults and drops the trailing slash of the public base URL', () => {
    const parsed = parseTwilioLink({ settings, secrets });
    expect(parsed.settings.publicBaseUrl).toBe('https://psap.example.org/lifeline');
    expect(parsed.settings.maxMediaBytes).toBe(5 * 1024 * 1024);
    expect(parsed.settings.messagingServiceSid).toBeUndefined();
    expect(parsed.settings.voice).toMatchObject({
      mode: 'enqueue',
      queueName: 'lifeline',
      language: 'en-US',
      ringTimeoutSeconds: 30,
      record: false,
      transcribe: false,
    });
    expect(parsed.settings.voice.greeting.length).toBeGreaterThan(10);
    expect(parsed.secrets).toEqual(secrets);
  });

  it('takes dial mode with a number or a SIP URI, and a messaging service', () => {
    const sip = parseTwilioLink({
      settings: { ...settings, messagingServiceSid: `MG${'0'.repeat(32)}`, voice: { mode: 'dial', dialNumber: 'sip:desk@pbx.psap.example.org', record: true } },
      secrets,
    });
    expect(sip.settings.voice).toMatchObject({ mode: 'dial', dialNumber: 'sip:desk@pbx.psap.example.org', record: true });
    expect(sip.settings.messagingServiceSid).toBe(`MG${'0'.repeat(32)}`);
    expect(parseTwilioLink({ settings: { ...settings, voice: { mode: 'dial', dialNumber: '+15550199000' } }, secrets }).settings.voice.dialNumber).toBe('+15550199000');
  });

  it.each([
    ['accountSid', { ...settings, accountSid: 'AC123' }, secrets],
    ['accountSid', { ...settings, accountSid: undefined }, secrets],
    ['phoneNumbers', { ...settings, phoneNumbers: [] }, secrets],
    ['phoneNumbers.1', { ...settings, phoneNumbers: ['+15550100911', '555-0100'] }, secrets],
    ['phoneNumbers', { ...settings, phoneNumbers: ['+15550100911', '+15550100911'] }, secrets],
    ['publicBaseUrl', { ...settings, publicBaseUrl: 'ftp://psap.example.org' }, secrets],
    ['publicBaseUrl', { ...settings, publicBaseUrl: 'https://psap.example.org/?x=1' }, secrets],
    ['messagingServiceSid', { ...settings, messagingServiceSid: 'MG1' }, secrets],
    ['maxMediaBytes', { ...settings, maxMediaBytes: 10 }, secrets],
    ['voice.mode', { ...settings, voice: { mode: 'ring' } }, secrets],
    ['voice.dialNumber', { ...settings, voice: { mode: 'dial' } }, secrets],
    ['voice.dialNumber', { ...settings, voice: { mode: 'dial', dialNumber: '911' } }, secrets],
    ['voice.ringTimeoutSeconds', { ...settings, voice: { ringTimeoutSeconds: 1 } }, secrets],
    ['voice.greeting', { ...settings, voice: { greeting: '  ' } }, secrets],
    ['voice.language', { ...settings, voice: { language: 'English' } }, secrets],
    ['voice.maxVoicemailSeconds', { ...settings, voice: { maxVoicemailSeconds: 600 } }, secrets],
    ['voice', { ...settings, voice: { mode: 'dial', dialNumber: '+15550199000', extra: true } }, secrets],
    ['settings', { ...settings, unknown: 1 }, secrets],
    ['authToken', settings, {}],
    ['authToken', settings, { authToken: 'short' }],
    ['secrets', settings, { ...secrets, apiKey: 'x' }],
  ])('names %s when it is wrong', (field, badSettings, badSecrets) => {
    expect(fieldOf({ settings: badSettings, secrets: badSecrets })).toBe(field);
  });
});
