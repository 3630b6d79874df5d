/**
 * Twilio end to end: a real gateway (PostgreSQL, Redis, BullMQ, Socket.IO)
 * with a Twilio account link created through the API; webhooks posted as
 * Twilio posts them, signed with the twilio library's own helper over the
 * link's public URL; replies reaching a fake Twilio REST API the library is
 * pointed at. No fixed sleeps: every wait has a deadline.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwilioAdapter } from '../../adapters/twilio/index.ts';
import { createWebchatAdapter } from '../../adapters/webchat/index.ts';
import type { LinkStatus } from '../../src/channel.ts';
import type { ConversationView, MessageView } from '../../src/realtime/events.ts';
import { CALLBACK_PRIORITY_FLOOR } from '../../src/store/calls.ts';
import { newSid, startFakeTwilio, twilioError, type FakeTwilio } from '../support/fake-twilio.ts';
import {
  ADMIN_PASSWORD,
  api,
  connectAgent,
  createAgents,
  login,
  request,
  startTestGateway,
  type AgentSocket,
  type TestGateway,
} from '../support/gateway.ts';
import { callParams, createTwilioLink, postWebhook, PSAP_NUMBERS, PUBLIC_BASE_URL, type TwilioLinkRef } from '../support/twilio.ts';
import { nextEvent, waitFor } from '../support/wait.ts';
import { elementsOf, textOf, twimlVerbs } from '../support/xml.ts';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const MP3 = Buffer.concat([Buffer.from('ID3'), randomBytes(2048)]);

let serial = 0;
/** A fresh citizen number per use. */
const citizen = () => `+1555030${String(++serial).padStart(4, '0')}`;

describe('Twilio voice and SMS webhooks', () => {
  let fake: FakeTwilio;
  let gw: TestGateway;
  let admin: string;
  let sam: { id: string; token: string };
  let agent: AgentSocket;
  let link: TwilioLinkRef;

  const statusOf = async (id: string) =>
    (await api<{ link: { runner: { status: LinkStatus } | null } }>(gw, 'GET', `/api/links/${id}`, { token: admin })).body.link.runner?.status;
  const post = (route: string, params: Record<string, string>, o?: Parameters<typeof postWebhook>[4]) => postWebhook(gw, link, route, params, o);
  const sms = (from: string, body: string, extra: Record<string, string> = {}) => ({
    MessageSid: newSid('SM'),
    AccountSid: link.accountSid,
    From: from,
    To: PSAP_NUMBERS[0]!,
    Body: body,
    NumMedia: '0',
    ...extra,
  });
  const call = (from: string) => ({ sid: newSid('CA'), accountSid: link.accountSid, from });

  /** The latest conversation of a phone contact. */
  const conversationOf = async (address: string) => {
    const [row] = await gw.store.sql<Array<{ id: string; priority: number; status: string; queue_id: string | null; callback_requested_at: Date | null; channel: string }>>`
      select c.id, c.priority, c.status, c.queue_id, c.callback_requested_at, c.channel from conversations c
      join contacts k on k.id = c.contact_id where k.channel = 'phone' and k.address = ${address} order by c.opened_at desc limit 1`;
    return row;
  };
  const storedMessages = (conversationId: string) =>
    gw.store.sql<Array<{ id: string; direction: string; body: string; channel_message_id: string | null; delivery_status: string; delivery_error: string | null }>>`
      select id, direction, body, channel_message_id, delivery_status, delivery_error from messages where conversation_id = ${conversationId} order by id`;
  const callRow = async (sid: string) => (await gw.store.sql`select * from calls where call_sid = ${sid}`)[0];
  const openIn = async (socket: AgentSocket, conversationId: string) =>
    request<{ conversation: ConversationView; messages: MessageView[] }>(socket, 'conversation:open', { conversationId });
  const waitConversation = (address: string, what = `a conversation of ${address}`) => waitFor(what, () => conversationOf(address));
  /** Waits until the routing worker has scored the conversation (it then has a queue). */
  const waitRouted = (address: string) => waitFor(`${address} routed`, async () => ((await conversationOf(address))?.queue_id ? conversationOf(address) : undefined));

  beforeAll(async () => {
    fake = await startFakeTwilio();
    gw = await startTestGateway(
      { LINK_LEASE_MS: '900', OUTBOUND_ATTEMPTS: '5', OUTBOUND_BACKOFF_MS: '50' },
      { adapters: [createWebchatAdapter(), createTwilioAdapter({ apiBaseUrl: fake.url, accountRecheckMs: 100 })] },
    );
    admin = await login(gw, 'admin', ADMIN_PASSWORD);
    sam = (await createAgents(gw, [{ username: 'sam', capacity: 50 }]))[0]!;
    agent = await connectAgent(gw, sam.token);
    await request(agent, 'presence:set', { presence: 'available' });
  }, 60_000);

  afterAll(async () => {
    agent?.disconnect();
    await gw?.destroy();
    await fake?.stop();
  });

  it('validates link settings naming the field, and runs a link created through the API once its account answers', async () => {
    const bad = await api<{ error: { field: string } }>(gw, 'POST', '/api/links', {
      token: admin,
      body: { channel: 'twilio', name: 'bad', settings: { accountSid: fake.accountSid, phoneNumbers: PSAP_NUMBERS, publicBaseUrl: PUBLIC_BASE_URL, voice: { mode: 'dial' } }, secrets: { authToken: fake.authToken } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('voice.dialNumber');
    const noToken = await api<{ error: { field: string } }>(gw, 'POST', '/api/links', {
      token: admin,
      body: { channel: 'twilio', name: 'bad', settings: { accountSid: fake.accountSid, phoneNumbers: PSAP_NUMBERS, publicBaseUrl: PUBLIC_BASE_URL }, secrets: {} },
    });
    expect(noToken.body.error.field).toBe('authToken');

    link = await createTwilioLink(gw, admin, fake, 'county twilio', {
      voice: { mode: 'dial', dialNumber: '+15550199000', record: true, transcribe: true, greeting: 'County 911. Stay on the line.' },
    });
    const status = await waitFor('the link up', async () => ((await statusOf(link.id))?.state === 'up' ? statusOf(link.id) : undefined));
    expect(status?.lastError).toBeNull();
    expect(status?.detail).toMatchObject({ accountSid: fake.accountSid, phoneNumbers: PSAP_NUMBERS, voiceMode: 'dial' });
    expect(fake.accountChecks).toBeGreaterThanOrEqual(1);
    const shown = await api<{ link: Record<string, unknown> }>(gw, 'GET', `/api/links/${link.id}`, { token: admin });
    expect(shown.body.link.secretsSet).toEqual(['authToken']);
    expect(JSON.stringify(shown.body)).not.toContain(fake.authToken);
  });

  it('answers unsigned, wrongly signed and stale-signed webhooks with 403 and stores nothing; an unknown link is 404', async () => {
    const from = citizen();
    const params = sms(from, 'someone is in my house');
    const path = `/webhooks/twilio/${link.id}/sms`;
    const refused = [
      await post('sms', params, { signature: null }),
      await post('sms', params, { signature: 'bm90IGEgc2lnbmF0dXJl' }),
      await post('sms', params, { signWith: { authToken: 'a-different-auth-token-0123456789' } }),
      // Signed for other parameters (the body was changed on the way).
      await post('sms', { ...params, Body: 'nothing happened' }, { signWith: { params } }),
      // Signed for the address the request reached rather than the public URL Twilio was given.
      await post('sms', params, { signWith: { url: `${gw.url}${path}` } }),
      // A signature of another webhook, replayed here.
      await post('sms', params, { signWith: { url: `${PUBLIC_BASE_URL}/webhooks/twilio/${link.id}/voice` } }),
      // Signed, but for another account.
      await post('sms', { ...params, AccountSid: newSid('AC') }),
    ];
    for (const res of refused) expect(res.status).toBe(403);
    expect(JSON.parse(refused[0]!.text)).toMatchObject({ error: { code: 'invalid_signature' } });
    expect(await conversationOf(from)).toBeUndefined();
    const [stored] = await gw.store.sql`select count(*)::int as n from messages where channel_message_id = ${params.MessageSid}`;
    expect(stored!.n).toBe(0);

    expect((await postWebhook(gw, { ...link, id: randomUUID() }, 'sms', params)).status).toBe(404);
    expect((await postWebhook(gw, { ...link, id: 'not-a-link' }, 'sms', params)).status).toBe(404);
    await waitFor('bad signatures counted', async () => ((await statusOf(link.id))?.counters.badSignatures ?? 0) >= refused.length);
  });

  it('stores a text once however often its MessageSid repeats, keeps its photo and never hands the console a Twilio URL', async () => {
    const from = citizen();
    const photo = fake.addMedia(PNG, 'image/png');
    const tooBig = fake.addMedia(Buffer.alloc(5 * 1024 * 1024 + 1), 'image/jpeg');
    const elsewhere = 'https://media.example.net/evidence.jpg';
    const params = sms(from, 'I am hiding in the closet, this is the car outside', {
      To: PSAP_NUMBERS[1]!,
      NumMedia: '3',
      MediaUrl0: photo,
      MediaContentType0: 'image/png',
      MediaUrl1: tooBig,
      MediaContentType1: 'image/jpeg',
      MediaUrl2: elsewhere,
      MediaContentType2: 'image/jpeg',
    });
    const offered = nextEvent<ConversationView>(agent, 'conversation:offered', (c) => c.contact.phone === from, 15_000);
    const first = await post('sms', params);
    expect(first.status).toBe(200);
    expect(first.type).toMatch(/^text\/xml/);
    expect(twimlVerbs(first.text).verbs).toEqual([]);
    const repeats = [await post('sms', params), ...(await Promise.all([1, 2, 3].map(() => post('sms', params))))];
    for (const res of repeats) expect(res.status).toBe(200);

    const conversation = await offered;
    expect(conversation.channel).toBe('sms');
    const rows = (await storedMessages(conversation.id)).filter((m) => m.direction === 'inbound');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.channel_message_id).toBe(params.MessageSid);
    expect(fake.fileRequests.filter((r) => photo.endsWith(r.path))).toEqual([{ path: new URL(photo).pathname, authenticated: true }]);

    const { messages } = await openIn(agent, conversation.id);
    const [message] = messages.filter((m) => m.direction === 'inbound');
    expect(message!.body).toContain('I am hiding in the closet');
    expect(message!.body).toMatch(/media-2\.jpg \(image\/jpeg\) not kept: .*over the 5242880-byte limit/);
    expect(message!.body).toContain('media-3.jpg (image/jpeg) not fetched: https://media.example.net is not the Twilio API');
    expect(message!.attachments).toHaveLength(3);
    expect(message!.attachments[0]).toMatchObject({ name: 'media-1.png', contentType: 'image/png', size: PNG.length });
    expect(message!.attachments[0]!.url).toMatch(/^\/api\/messages\/\d+\/attachments\/0$/);
    expect(message!.attachments.slice(1).map((a) => a.url)).toEqual([undefined, undefined]);
    // The console only ever gets the gateway's own attachment route, never a URL Twilio or anyone else hosts.
    for (const a of messages.flatMap((m) => m.attachments)) expect(a.url === undefined || a.url.startsWith('/api/messages/')).toBe(true);
    expect(JSON.stringify(messages)).not.toContain(fake.url);
    const content = await fetch(`${gw.url}${message!.attachments[0]!.url!}`, { headers: { authorization: `Bearer ${sam.token}` } });
    expect(Buffer.from(await content.arrayBuffer()).equals(PNG)).toBe(true);
    await waitFor('duplicates counted', async () => ((await statusOf(link.id))?.counters.duplicates ?? 0) >= 4);
  });

  it('replies through the REST API from the number written to, and status callbacks move the delivery status in the console', async () => {
    const from = citizen();
    const offered = nextEvent<ConversationView>(agent, 'conversation:offered', (c) => c.contact.phone === from, 15_000);
    expect((await post('sms', sms(from, 'my neighbour collapsed', { To: PSAP_NUMBERS[1]! }))).status).toBe(200);
    const conversation = await offered;
    await request(agent, 'conversation:accept', { conversationId: conversation.id });
    await openIn(agent, conversation.id);

    const reply = async (text: string) => {
      const sent = await request<MessageView>(agent, 'message:send', { conversationId: conversation.id, text, clientId: randomUUID() });
      const created = await waitFor(`"${text}" at the Twilio API`, () => fake.messages.find((m) => m.params.Body === text));
      await waitFor(`"${text}" sent`, async () => (await storedMessages(conversation.id)).find((m) => Number(m.id) === sent.id)?.delivery_status === 'sent');
      return { id: sent.id, sid: created.sid, created };
    };
    const callback = (r: { id: number; sid: string }, status: string, extra: Record<string, string> = {}) =>
      post(`sms/status?m=${r.id}`, { MessageSid: r.sid, SmsSid: r.sid, AccountSid: link.accountSid, MessageStatus: status, SmsStatus: status, To: from, From: PSAP_NUMBERS[1]!, ...extra });

    const first = await reply('Help is on the way. Is he breathing?');
    expect(first.created.params).toEqual({
      To: from,
      From: PSAP_NUMBERS[1],
      Body: 'Help is on the way. Is he breathing?',
      StatusCallback: `${PUBLIC_BASE_URL}/webhooks/twilio/${link.id}/sms/status?m=${first.id}`,
    });
    expect(first.created.user).toBe(fake.accountSid);
    expect(first.created.password).toBe(fake.authToken);
    const [kept] = await gw.store.sql`select channel_message_id from messages where id = ${first.id}`;
    expect(kept!.channel_message_id).toBe(first.sid);

    expect((await callback(first, 'queued')).status).toBe(204);
    const delivered = nextEvent<{ id: number; status: string }>(agent, 'message:status', (u) => u.id === first.id && u.status === 'delivered');
    expect((await callback(first, 'sent')).status).toBe(204);
    expect((await callback(first, 'delivered')).status).toBe(204);
    await delivered;
    expect((await callback(first, 'sent')).status).toBe(204);

    const second = await reply('Can you tell me the address?');
    const undelivered = nextEvent<{ id: number; status: string; error: string | null }>(agent, 'message:status', (u) => u.id === second.id);
    await callback(second, 'undelivered', { ErrorCode: '30003' });
    expect(await undelivered).toMatchObject({ status: 'failed', error: 'undelivered: 30003 unreachable destination handset' });

    const third = await reply('Stay with him.');
    await callback(third, 'failed', { ErrorCode: '30008' });

    const shown = await waitFor('the statuses in the console', async () => {
      const m = (await openIn(agent, conversation.id)).messages.filter((x) => x.direction === 'outbound');
      return m.length === 3 && m[2]!.deliveryStatus === 'failed' ? m : undefined;
    });
    expect(shown.map((m) => [m.deliveryStatus, m.deliveryError])).toEqual([
      ['delivered', null],
      ['failed', 'undelivered: 30003 unreachable destination handset'],
      ['failed', 'failed: 30008 unknown error'],
    ]);
    const twilioRows = await gw.store.sql`select status, error_code from twilio_messages where sid = ${second.sid}`;
    expect(twilioRows).toEqual([{ status: 'undelivered', error_code: '30003' }]);
  });

  it('fails a reply to an invalid number at once, and retries throttling and outages until Twilio takes it', async () => {
    const invalid = citizen();
    const busy = citizen();
    for (const from of [invalid, busy]) {
      const offered = nextEvent<ConversationView>(agent, 'conversation:offered', (c) => c.contact.phone === from, 15_000);
      await post('sms', sms(from, 'help'));
      const c = await offered;
      await request(agent, 'conversation:accept', { conversationId: c.id });
      await openIn(agent, c.id);
    }
    fake.script(invalid, [twilioError(400, 21211, `The 'To' number ${invalid} is not a valid phone number.`)]);
    fake.script(busy, [twilioError(429, 20429, 'Too Many Requests'), twilioError(503, 20500, 'Service Unavailable')]);
    const conversationInvalid = (await conversationOf(invalid))!.id;
    const conversationBusy = (await conversationOf(busy))!.id;
    const failed = await request<MessageView>(agent, 'message:send', { conversationId: conversationInvalid, text: 'Are you safe?', clientId: randomUUID() });
    const retried = await request<MessageView>(agent, 'message:send', { conversationId: conversationBusy, text: 'Are you safe?', clientId: randomUUID() });

    const failedRow = await waitFor('the invalid-number reply failed', async () =>
      (await storedMessages(conversationInvalid)).find((m) => Number(m.id) === failed.id && m.delivery_status === 'failed'),
    );
    expect(failedRow.delivery_error).toMatch(/^Twilio 400 \(21211 invalid 'To' number\)/);
    await waitFor('the throttled reply sent', async () => (await storedMessages(conversationBusy)).find((m) => Number(m.id) === retried.id)?.delivery_status === 'sent');
    // The first 201 of each is the acknowledgement texted when the agent accepted.
    expect(fake.attempts.filter((a) => a.to === invalid)).toEqual([
      { to: invalid, status: 201 },
      { to: invalid, status: 400 },
    ]);
    expect(fake.attempts.filter((a) => a.to === busy).map((a) => a.status)).toEqual([201, 429, 503, 201]);
  });

  it('puts a text and a later call from the same number, written differently, in one conversation; answers with TwiML; records the call', async () => {
    const number = citizen();
    const written = `${number.slice(0, 2)} (${number.slice(2, 5)}) ${number.slice(5, 8)}-${number.slice(8)}`;
    expect(written).not.toBe(number);
    await post('sms', sms(written, 'I can hear shouting next door'));
    const conversation = await waitConversation(number);
    expect(conversation.channel).toBe('sms');

    const c = call(number);
    const answers = [await post('voice', callParams(c, { CallStatus: 'ringing' })), await post('voice', callParams(c, { CallStatus: 'ringing' }))];
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.type).toMatch(/^text\/xml/);
      const { verbs } = twimlVerbs(answer.text);
      expect(verbs.map((v) => v.name)).toEqual(['Start', 'Say', 'Dial']);
      expect(textOf(verbs[1]!)).toBe('County 911. Stay on the line.');
      expect(verbs[2]!.attributes.action).toBe(`${PUBLIC_BASE_URL}/webhooks/twilio/${link.id}/voice/dial-result`);
      expect(elementsOf(verbs[2]!).map((n) => textOf(n))).toEqual(['+15550199000']);
    }
    expect((await conversationOf(number))!.id).toBe(conversation.id);
    const [contacts] = await gw.store.sql`select count(*)::int as n from contacts where channel = 'phone' and address = ${number}`;
    expect(contacts!.n).toBe(1);
    expect((await storedMessages(conversation.id)).filter((m) => m.direction === 'inbound').map((m) => m.body)).toEqual([
      'I can hear shouting next door',
      `📞 Incoming call from ${number}`,
    ]);
    expect(await callRow(c.sid)).toMatchObject({ conversation_id: conversation.id, from_number: number, to_number: PSAP_NUMBERS[0], status: 'ringing' });

    expect((await post('voice/status', callParams(c, { CallStatus: 'in-progress' }))).status).toBe(204);
    expect((await post('voice/status', callParams(c, { CallStatus: 'ringing' }))).status).toBe(204);
    expect((await callRow(c.sid))!.status).toBe('in-progress');
    const dialed = await post('voice/dial-result', callParams(c, { CallStatus: 'in-progress', DialCallStatus: 'completed', DialCallDuration: '95', DialCallSid: newSid('CA') }));
    expect(twimlVerbs(dialed.text).verbs.map((v) => v.name)).toEqual(['Hangup']);
    await post('voice/status', callParams(c, { CallStatus: 'completed', CallDuration: '120' }));
    const row = await callRow(c.sid);
    expect(row).toMatchObject({ status: 'completed', duration_seconds: 120, outcome: 'answered' });
    expect(row!.ringing_at).not.toBeNull();
    expect(row!.in_progress_at).not.toBeNull();
    expect(row!.answered_at).not.toBeNull();
    expect(row!.ended_at).not.toBeNull();
    const events = await gw.store.sql`select type from events where conversation_id = ${conversation.id} and type like 'call.%' order by id`;
    expect(events.map((e) => e.type)).toEqual(['call.started', 'call.in_progress', 'call.answered', 'call.completed']);

    const recording = fake.addRecording(MP3);
    await post('voice/recording?kind=call', callParams(c, { RecordingSid: recording.sid, RecordingUrl: recording.url, RecordingStatus: 'completed', RecordingDuration: '118', RecordingChannels: '2' }));
    expect((await callRow(c.sid))!.recording_sid).toBe(recording.sid);
    const log = await waitFor('the call log in the console', async () => {
      const notes = (await openIn(agent, conversation.id)).messages.filter((m) => m.direction === 'note');
      return notes.length === 2 ? notes : undefined;
    });
    expect(log.map((m) => m.body)).toEqual(['📞 Call ended after 2:00: answered by a call-taker.', '🎙 Call recording (1:58)']);
    expect(log[1]!.attachments).toEqual([expect.objectContaining({ name: `call-recording-${recording.sid}.mp3`, contentType: 'audio/mpeg', size: MP3.length })]);
    const audio = await fetch(`${gw.url}${log[1]!.attachments[0]!.url!}`, { headers: { authorization: `Bearer ${sam.token}` } });
    expect(Buffer.from(await audio.arrayBuffer()).equals(MP3)).toBe(true);
    expect((await conversationOf(number))!.callback_requested_at).toBeNull();
  });

  it('makes a call hung up before anyone answered a call-back task above every waiting text: first in the lists, first offered', async () => {
    // Nobody takes work while the texts and the call arrive.
    await request(agent, 'presence:set', { presence: 'away' });
    const texts = [
      [citizen(), 'There is a man with a gun outside'],
      [citizen(), 'Fire in the kitchen, smoke everywhere'],
      [citizen(), 'help'],
    ] as const;
    for (const [from, body] of texts) await post('sms', sms(from, body));
    const waiting = await Promise.all(texts.map(([from]) => waitRouted(from)));
    const highest = Math.max(...waiting.map((w) => w!.priority));
    expect(highest).toBeGreaterThanOrEqual(100);

    const caller = citizen();
    const c = call(caller);
    await post('voice', callParams(c, { CallStatus: 'ringing' }));
    await post('voice/status', callParams(c, { CallStatus: 'ringing' }));
    expect((await post('voice/status', callParams(c, { CallStatus: 'completed', CallDuration: '14' }))).status).toBe(204);

    const task = await waitFor('the call-back task', async () => {
      const row = await conversationOf(caller);
      return row?.callback_requested_at ? row : undefined;
    });
    expect(task.priority).toBeGreaterThanOrEqual(CALLBACK_PRIORITY_FLOOR);
    expect(task.priority).toBeGreaterThan(highest);
    expect(await callRow(c.sid)).toMatchObject({ outcome: 'abandoned', outcome_reason: 'the caller hung up before a call-taker answered', callback_conversation_id: task.id });
    const bodies = (await storedMessages(task.id)).map((m) => [m.direction, m.body]);
    expect(bodies).toEqual([
      ['inbound', `📞 Incoming call from ${caller}`],
      ['inbound', `📞 Missed call — the caller hung up before a call-taker answered. Call back ${caller}.`],
      ['note', '📞 Call ended after 0:14: not answered (the caller hung up before a call-taker answered).'],
    ]);
    const [event] = await gw.store.sql`select data from events where conversation_id = ${task.id} and type = 'callback.requested'`;
    expect(event!.data).toMatchObject({ callSid: c.sid, priority: task.priority });

    // The supervisor's list: the call-back first, marked, with the number to call.
    const [sue] = await createAgents(gw, [{ username: 'sue', role: 'supervisor' }]);
    const supervisor = await connectAgent(gw, sue!.token);
    const all = await request<ConversationView[]>(supervisor, 'conversation:list', {});
    expect(all[0]).toMatchObject({ id: task.id, channel: 'voice', contact: { phone: caller } });
    expect(all[0]!.callbackRequestedAt).not.toBeNull();
    const queued = all.filter((x) => x.status === 'queued');
    expect(queued[0]!.id).toBe(task.id);
    for (const w of waiting) expect(queued.findIndex((x) => x.id === w!.id)).toBeGreaterThan(0);
    supervisor.disconnect();

    // The first agent to become available is offered the call-back before every text.
    // A voice call weighs 3 load units (CHANNEL_WEIGHTS): a whole agent.
    const [cora] = await createAgents(gw, [{ username: 'cora', capacity: 3 }]);
    const coraSocket = await connectAgent(gw, cora!.token);
    const offered = nextEvent<ConversationView>(coraSocket, 'conversation:offered', () => true, 15_000);
    await request(coraSocket, 'presence:set', { presence: 'available' });
    expect((await offered).id).toBe(task.id);
    expect((await request<ConversationView[]>(coraSocket, 'conversation:list', {})).map((x) => x.id)).toEqual([task.id]);
    await request(coraSocket, 'conversation:accept', { conversationId: task.id });
    await request(coraSocket, 'conversation:resolve', { conversationId: task.id, resolution: 'handled' });
    await request(coraSocket, 'presence:set', { presence: 'offline' });
    coraSocket.disconnect();
    await request(agent, 'presence:set', { presence: 'available' });
  });

  it('takes a transcribed voicemail when the dial is not answered, and files recording and transcription in the conversation', async () => {
    const caller = citizen();
    const c = call(caller);
    await post('voice', callParams(c, { CallStatus: 'ringing' }));
    const result = await post('voice/dial-result', callParams(c, { CallStatus: 'in-progress', DialCallStatus: 'no-answer', DialCallSid: newSid('CA') }));
    const { verbs } = twimlVerbs(result.text);
    expect(verbs.map((v) => v.name)).toEqual(['Say', 'Say', 'Record', 'Hangup']);
    expect(verbs[2]!.attributes).toMatchObject({ transcribe: 'true', transcribeCallback: `${PUBLIC_BASE_URL}/webhooks/twilio/${link.id}/voice/transcription` });
    const task = await waitFor('the call-back task', async () => ((await conversationOf(caller))?.callback_requested_at ? conversationOf(caller) : undefined));
    expect(task!.priority).toBeGreaterThanOrEqual(CALLBACK_PRIORITY_FLOOR);

    const recording = fake.addRecording(MP3);
    await post('voice/recording?kind=voicemail', callParams(c, { RecordingSid: recording.sid, RecordingUrl: recording.url, RecordingStatus: 'completed', RecordingDuration: '21' }));
    const transcription = { TranscriptionSid: newSid('TR'), TranscriptionStatus: 'completed', TranscriptionText: 'I fell down the stairs and cannot get up', RecordingSid: recording.sid, RecordingUrl: recording.url };
    await post('voice/transcription', callParams(c, transcription));
    await post('voice/transcription', callParams(c, transcription));
    await post('voice/status', callParams(c, { CallStatus: 'completed', CallDuration: '48' }));

    const rows = await waitFor('voicemail and transcription stored', async () => {
      const m = await storedMessages(task!.id);
      return m.length >= 5 ? m : undefined;
    });
    expect(rows.map((m) => [m.direction, m.body])).toEqual([
      ['inbound', `📞 Incoming call from ${caller}`],
      ['inbound', `📞 Missed call — nobody answered (no-answer). Call back ${caller}.`],
      ['inbound', `🎙 Voicemail from ${caller} (0:21)`],
      ['inbound', '📝 Voicemail transcription: “I fell down the stairs and cannot get up”'],
      ['note', '📞 Call ended after 0:48: not answered (nobody answered (no-answer)).'],
    ]);
    expect(await callRow(c.sid)).toMatchObject({ outcome: 'abandoned', recording_sid: recording.sid, transcription_text: 'I fell down the stairs and cannot get up', duration_seconds: 48 });
    const [voicemail] = await gw.store.sql`select attachments from messages where channel_message_id = ${recording.sid}`;
    expect(voicemail!.attachments).toEqual([expect.objectContaining({ name: `voicemail-${recording.sid}.mp3`, contentType: 'audio/mpeg', size: MP3.length, sha256: expect.any(String) })]);
  });

  it('withdraws the call-back task when the answer is reported after the hang-up', async () => {
    const caller = citizen();
    const c = call(caller);
    await post('voice', callParams(c, { CallStatus: 'ringing' }));
    const before = await waitRouted(caller);
    await post('voice/status', callParams(c, { CallStatus: 'completed', CallDuration: '30' }));
    await waitFor('the call-back task', async () => (await conversationOf(caller))?.callback_requested_at);
    await post('voice/dial-result', callParams(c, { CallStatus: 'completed', DialCallStatus: 'completed', DialCallDuration: '25' }));
    const after = await waitFor('the call-back withdrawn', async () => {
      const row = await conversationOf(caller);
      return row && row.callback_requested_at === null ? row : undefined;
    });
    expect(after.priority).toBe(before!.priority);
    expect(await callRow(c.sid)).toMatchObject({ outcome: 'answered', callback_conversation_id: null });
    expect((await storedMessages(after.id)).map((m) => m.body)).toContain('📞 The call was answered after all: no call-back needed for it.');
  });

  it('in queue mode: holds the caller, takes a bridged call as answered, and a hang-up in the queue as a call-back', async () => {
    const queued = await createTwilioLink(gw, admin, fake, 'county twilio queue', { voice: { mode: 'enqueue', queueName: 'county-911', ringTimeoutSeconds: 60 } });
    const onQueue = (route: string, params: Record<string, string>) => postWebhook(gw, queued, route, params);
    const bridged = call(citizen());
    const answer = twimlVerbs((await onQueue('voice', callParams(bridged, { CallStatus: 'ringing' }))).text).verbs;
    expect(answer.map((v) => [v.name, textOf(v)])).toEqual([
      ['Say', expect.any(String)],
      ['Enqueue', 'county-911'],
    ]);
    expect(answer[1]!.attributes).toMatchObject({
      action: `${PUBLIC_BASE_URL}/webhooks/twilio/${queued.id}/voice/queue-result`,
      waitUrl: `${PUBLIC_BASE_URL}/webhooks/twilio/${queued.id}/voice/queue-wait`,
    });
    const hold = twimlVerbs((await onQueue('voice/queue-wait', callParams(bridged, { QueueSid: newSid('QU'), QueueTime: '20', QueuePosition: '1' }))).text).verbs;
    expect(hold.map((v) => v.name)).toEqual(['Say', 'Pause']);
    expect(twimlVerbs((await onQueue('voice/queue-wait', callParams(bridged, { QueueTime: '61' }))).text).verbs.map((v) => v.name)).toEqual(['Leave']);
    await onQueue('voice/queue-result', callParams(bridged, { QueueResult: 'bridged', QueueTime: '25', QueueSid: newSid('QU') }));
    expect(await callRow(bridged.sid)).toMatchObject({ outcome: 'answered', link_id: queued.id });

    const gaveUp = call(citizen());
    await onQueue('voice', callParams(gaveUp, { CallStatus: 'ringing' }));
    const left = await onQueue('voice/queue-result', callParams(gaveUp, { QueueResult: 'hangup', QueueTime: '42', QueueSid: newSid('QU') }));
    expect(twimlVerbs(left.text).verbs.map((v) => v.name)).toEqual(['Hangup']);
    expect(await callRow(gaveUp.sid)).toMatchObject({ outcome: 'abandoned', outcome_reason: 'the caller hung up after waiting 0:42 in the queue' });
    expect((await conversationOf(gaveUp.from))!.callback_requested_at).not.toBeNull();
    expect((await api(gw, 'DELETE', `/api/links/${queued.id}`, { token: admin })).status).toBe(204);
    expect((await onQueue('voice', callParams(call(citizen())))).status).toBe(404);
  });

  it('serves webhooks in a process that does not run the link', async () => {
    const other = await startTestGateway(
      { LIFELINE_ROLE: 'api', QUEUE_PREFIX: gw.config.queuePrefix },
      { database: gw.database, adapters: [createWebchatAdapter(), createTwilioAdapter({ apiBaseUrl: fake.url })] },
    );
    try {
      expect(other.links).toBeUndefined();
      const from = citizen();
      const params = sms(from, 'texting the other server');
      expect((await postWebhook(other, link, 'sms', params, { signature: null })).status).toBe(403);
      const answer = await postWebhook(other, link, 'sms', params);
      expect(answer.status).toBe(200);
      // The worker process routes what the api process stored.
      const routed = await waitRouted(from);
      expect((await storedMessages(routed!.id)).map((m) => m.body)).toEqual(['texting the other server']);
    } finally {
      await other.stop();
    }
  });

  it('refuses signatures made with a rotated-out auth token, and answers 404 once the link is stopped', async () => {
    // The counters of the process running the link, as it publishes them with its lease.
    const counters = await waitFor('the counters published', async () => {
      const c = (await statusOf(link.id))?.counters;
      return c?.abandonedCalls === 3 && c.recordings === 2 ? c : undefined;
    }).catch(async (err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify((await statusOf(link.id))?.counters)}`);
    });
    expect(counters).toMatchObject({ transcriptions: 2, mediaNotKept: 2, sendFailures: 3 });
    for (const name of ['smsIn', 'smsOut', 'callsIn', 'statusCallbacks', 'duplicates', 'badSignatures']) expect(counters[name]).toBeGreaterThan(0);
    const oldToken = link.authToken;
    const newToken = randomBytes(16).toString('hex');
    // Secrets alone: the settings stay as they were.
    const patched = await api(gw, 'PATCH', `/api/links/${link.id}`, { token: admin, body: { secrets: { authToken: newToken } } });
    expect(patched.body).toMatchObject({ link: { id: link.id, settings: { publicBaseUrl: PUBLIC_BASE_URL, voice: { mode: 'dial' } } } });
    fake.authToken = newToken;
    link = { ...link, authToken: newToken };
    const from = citizen();
    expect((await post('sms', sms(from, 'stale'), { signWith: { authToken: oldToken } })).status).toBe(403);
    expect(await conversationOf(from)).toBeUndefined();
    expect((await post('sms', sms(from, 'fresh'))).status).toBe(200);

    expect((await api(gw, 'POST', `/api/links/${link.id}/stop`, { token: admin })).status).toBe(200);
    const late = citizen();
    expect((await post('sms', sms(late, 'anyone there?'))).status).toBe(404);
    expect(await conversationOf(late)).toBeUndefined();
  });
});
