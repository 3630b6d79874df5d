/**
 * The TwiML answers, parsed as XML: the verbs Twilio will run, in order, with
 * the callback URLs it will call and every spoken text escaped.
 */
import { describe, expect, it } from 'vitest';
import { parseTwilioLink, type VoiceSettings } from '../../../adapters/twilio/config.ts';
import { answerCall, emptyMessagingResponse, hangUp, noAnswer, queueWait, webhookUrls } from '../../../adapters/twilio/twiml.ts';
import { elementsOf, parseXml, textOf, twimlVerbs } from '../../support/xml.ts';

const LINK = '3f1d0c9e-9a7b-4c38-8f6e-0d5b2f1a7c11';
const BASE = 'https://psap.example.org/lifeline';
const urls = webhookUrls(BASE, LINK);

function voice(over: Record<string, unknown> = {}): VoiceSettings {
  return parseTwilioLink({
    settings: { accountSid: `AC${'0'.repeat(32)}`, phoneNumbers: ['+15550100911'], publicBaseUrl: BASE, voice: over },
    secrets: { authToken: 'x'.repeat(32) },
  }).settings.voice;
}

const names = (xml: string) => twimlVerbs(xml).verbs.map((v) => v.name);

describe('TwiML answers', () => {
  it('answers a call in dial mode: greeting, then <Dial> of the number with the ring timeout and the result URL', () => {
    const xml = answerCall(voice({ mode: 'dial', dialNumber: '+15550199000', ringTimeoutSeconds: 25, greeting: 'Emergency <911> & more' }), urls);
    const { verbs } = twimlVerbs(xml);
    expect(verbs.map((v) => v.name)).toEqual(['Say', 'Dial']);
    expect(textOf(verbs[0]!)).toBe('Emergency <911> & more');
    expect(verbs[0]!.attributes.language).toBe('en-US');
    const dial = verbs[1]!;
    expect(dial.attributes).toMatchObject({ action: `${BASE}/webhooks/twilio/${LINK}/voice/dial-result`, method: 'POST', timeout: '25' });
    expect(elementsOf(dial).map((n) => [n.name, textOf(n)])).toEqual([['Number', '+15550199000']]);
  });

  it('dials a SIP URI with <Sip>', () => {
    const dial = twimlVerbs(answerCall(voice({ mode: 'dial', dialNumber: 'sip:desk@pbx.example.org' }), urls)).verbs[1]!;
    expect(elementsOf(dial).map((n) => [n.name, textOf(n)])).toEqual([['Sip', 'sip:desk@pbx.example.org']]);
  });

  it('answers a call in enqueue mode: <Enqueue> into the queue, with the result and wait URLs', () => {
    const { verbs } = twimlVerbs(answerCall(voice({ mode: 'enqueue', queueName: 'psap-callers' }), urls));
    expect(verbs.map((v) => v.name)).toEqual(['Say', 'Enqueue']);
    expect(textOf(verbs[1]!)).toBe('psap-callers');
    expect(verbs[1]!.attributes).toMatchObject({ action: urls.queueResult, waitUrl: urls.queueWait, method: 'POST', waitUrlMethod: 'POST' });
  });

  it('starts a recording first when calls are recorded', () => {
    const { verbs } = twimlVerbs(answerCall(voice({ record: true }), urls));
    expect(verbs.map((v) => v.name)).toEqual(['Start', 'Say', 'Enqueue']);
    const [recording] = elementsOf(verbs[0]!);
    expect(recording?.name).toBe('Recording');
    expect(recording?.attributes).toMatchObject({ recordingStatusCallback: `${BASE}/webhooks/twilio/${LINK}/voice/recording?kind=call` });
  });

  it('tells an unanswered caller they will be called back, and takes a transcribed voicemail when configured', () => {
    expect(names(noAnswer(voice(), urls))).toEqual(['Say', 'Hangup']);
    const { verbs } = twimlVerbs(noAnswer(voice({ transcribe: true, maxVoicemailSeconds: 90 }), urls));
    expect(verbs.map((v) => v.name)).toEqual(['Say', 'Say', 'Record', 'Hangup']);
    expect(verbs[2]!.attributes).toMatchObject({
      transcribe: 'true',
      transcribeCallback: urls.transcription,
      recordingStatusCallback: `${BASE}/webhooks/twilio/${LINK}/voice/recording?kind=voicemail`,
      action: urls.voicemailDone,
      maxLength: '90',
    });
  });

  it('keeps a queued caller waiting until the ring timeout, then leaves the queue', () => {
    const v = voice({ ringTimeoutSeconds: 40 });
    const waiting = twimlVerbs(queueWait(v, 0)).verbs;
    expect(waiting.map((x) => x.name)).toEqual(['Say', 'Pause']);
    expect(waiting[1]!.attributes.length).toBe('15');
    expect(twimlVerbs(queueWait(v, 35)).verbs[1]!.attributes.length).toBe('5');
    expect(names(queueWait(v, 40))).toEqual(['Leave']);
  });

  it('hangs up, and answers texts with an empty response', () => {
    expect(names(hangUp())).toEqual(['Hangup']);
    expect(names(emptyMessagingResponse())).toEqual([]);
  });

  it('puts the message id of a reply in its status callback URL', () => {
    expect(urls.smsStatus(42)).toBe(`${BASE}/webhooks/twilio/${LINK}/sms/status?m=42`);
  });
});

describe('the test XML reader', () => {
  it('refuses what is not well-formed XML', () => {
    for (const bad of ['<Response><Say>a</Response>', '<Response>a & b</Response>', '<Response a="1" a="2"/>', '<Response/><Response/>', 'Response']) {
      expect(() => parseXml(bad), bad).toThrow(/malformed XML/);
    }
    expect(textOf(parseXml('<?xml version="1.0"?><R x="&lt;&#65;&#x42;">&amp;&quot;</R>'))).toBe('&"');
  });
});
