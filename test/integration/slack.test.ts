/**
 * Slack end to end: a real gateway takes Events API requests signed like
 * Slack's for a link created through the API, stores each citizen message
 * once (Slack's retries included) before answering 200, refuses what is not
 * signed by the link's secret, and sends the agent's replies in the
 * citizen's thread through a fake Slack Web API, mapping Slack's errors to
 * failed or retried deliveries.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackAdapter } from '../../adapters/slack/index.ts';
import { createWebchatAdapter } from '../../adapters/webchat/index.ts';
import type { LinkStatus } from '../../src/channel.ts';
import type { ConversationView, MessageView } from '../../src/realtime/events.ts';
import { FAKE_BOT_USER_ID, FAKE_TEAM_ID, startFakeSlack, type FakeSlack, type SlackApiCall } from '../support/fake-slack.ts';
import { ADMIN_PASSWORD, api, connectAgent, createAgents, login, request, startTestGateway, type AgentSocket, type TestGateway } from '../support/gateway.ts';
import { eventCallback, messageEvent, postSlackEvent, slackTs, type PostOptions } from '../support/slack-events.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

const SIGNING_SECRET = 'slack-signing-secret-for-tests-0123';
const BOT_TOKEN = 'xoxb-1111-2222-lifelinetesttoken';
const WATCHED = 'C0WATCHED1';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

interface StoredRow {
  id: string;
  conversation_id: string;
  channel_message_id: string;
  body: string;
  attachments: Array<{ name: string; contentType: string; size: number; sha256?: string }>;
  contact_name: string | null;
}

describe('Slack over the Events API', () => {
  let slack: FakeSlack;
  let gw: TestGateway;
  let admin: string;
  let agent: AgentSocket;
  let linkId: string;

  const eventsUrl = (id = linkId) => `${gw.url}/webhooks/slack/${id}/events`;
  const post = (payload: unknown, o: PostOptions = {}) => postSlackEvent(eventsUrl(), SIGNING_SECRET, payload, o);
  const statusOf = async (id = linkId) =>
    (await api<{ link: { runner: { status: LinkStatus } | null } }>(gw, 'GET', `/api/links/${id}`, { token: admin })).body.link.runner?.status;
  /** The link's status as published after this call: the counters include everything done before it. */
  const freshStatus = async (id = linkId) => {
    const asked = Date.now();
    return waitFor('the link status published anew', async () => {
      const runner = (await api<{ link: { runner: { status: LinkStatus; expiresAt: string } | null } }>(gw, 'GET', `/api/links/${id}`, { token: admin })).body.link.runner;
      // The lease (LINK_LEASE_MS 900) is renewed with the status: a renewal after `asked` expires after asked + 900.
      return runner && Date.parse(runner.expiresAt) > asked + 900 ? runner.status : undefined;
    });
  };
  const stored = async (channelMessageIds: string[]) =>
    gw.store.sql<StoredRow[]>`
      select m.id, m.conversation_id, m.channel_message_id, m.body, m.attachments, k.name as contact_name
        from messages m join conversations c on c.id = m.conversation_id join contacts k on k.id = c.contact_id
       where m.direction = 'inbound' and m.channel_message_id in ${gw.store.sql(channelMessageIds)} order by m.id`;
  const messagesOf = async (conversationId: string) =>
    (await request<{ messages: MessageView[] }>(agent, 'conversation:open', { conversationId })).messages;
  const postCalls = (text: string) => slack.calls.filter((c) => c.method === 'chat.postMessage' && c.params.text === text);

  /** A citizen's first direct message, stored, offered to the agent and accepted. */
  async function openConversation(user: string, text: string, channel: string) {
    const ts = slackTs();
    const res = await post(eventCallback(messageEvent({ user, text, ts, channel, channelType: channel.startsWith('D') ? 'im' : 'channel' })));
    expect(res.status).toBe(200);
    const [row] = await stored([`${channel}:${ts}`]);
    expect(row).toBeDefined();
    await waitFor('the conversation offered and accepted', () =>
      request(agent, 'conversation:accept', { conversationId: row!.conversation_id }).then(() => true, () => false),
    );
    // Opened, as the console does: the agent's socket joins its room and gets its delivery updates.
    await messagesOf(row!.conversation_id);
    return { conversationId: row!.conversation_id, ts, channel };
  }

  async function reply(conversationId: string, text: string): Promise<MessageView> {
    return request<MessageView>(agent, 'message:send', { conversationId, text, clientId: randomUUID() });
  }

  const deliveryOf = async (conversationId: string, messageId: number) =>
    waitFor(`message ${messageId} delivered or failed`, async () => {
      const m = (await messagesOf(conversationId)).find((x) => x.id === messageId);
      return m && (m.deliveryStatus === 'sent' || m.deliveryStatus === 'failed') ? m : undefined;
    }, 20_000);

  beforeAll(async () => {
    slack = await startFakeSlack(BOT_TOKEN);
    gw = await startTestGateway(
      { LINK_LEASE_MS: '900', OUTBOUND_ATTEMPTS: '6', OUTBOUND_BACKOFF_MS: '50' },
      { adapters: [createWebchatAdapter(), createSlackAdapter()] },
    );
    admin = await login(gw, 'admin', ADMIN_PASSWORD);
    const [sam] = await createAgents(gw, [{ username: 'sam', capacity: 50 }]);
    agent = await connectAgent(gw, sam!.token);
    await request(agent, 'presence:set', { presence: 'available' });
  }, 60_000);

  afterAll(async () => {
    agent?.disconnect();
    await gw?.destroy();
    await slack?.stop();
  });

  it('validates link settings naming the field, and runs a link created through the API', async () => {
    const bad = await api<{ error: { field: string } }>(gw, 'POST', '/api/links', {
      token: admin,
      body: { channel: 'slack', name: 'bad', settings: { channels: ['general'] }, secrets: { signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('channels.0');
    const noToken = await api<{ error: { field: string } }>(gw, 'POST', '/api/links', {
      token: admin,
      body: { channel: 'slack', name: 'bad', settings: {}, secrets: { signingSecret: SIGNING_SECRET } },
    });
    expect(noToken.status).toBe(400);
    expect(noToken.body.error.field).toBe('botToken');

    const res = await api<{ link: { id: string; secretsSet: string[]; settings: Record<string, unknown> } }>(gw, 'POST', '/api/links', {
      token: admin,
      body: {
        channel: 'slack',
        name: 'psap slack',
        settings: { teamId: FAKE_TEAM_ID, channels: [WATCHED], apiUrl: slack.apiUrl },
        secrets: { signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.link.secretsSet).toEqual(['botToken', 'signingSecret']);
    expect(JSON.stringify(res.body.link)).not.toContain(BOT_TOKEN);
    linkId = res.body.link.id;
    // Up, with the bot identity auth.test gave (called with the link's token).
    const status = await waitFor('the link up with its bot identity', async () => {
      const s = await statusOf();
      return s?.state === 'up' && s.detail?.botUserId === FAKE_BOT_USER_ID ? s : undefined;
    });
    expect(status.lastError).toBeNull();
    expect(status.detail).toMatchObject({ teamId: FAKE_TEAM_ID, eventsPath: `/webhooks/slack/${linkId}/events` });
    expect((await slack.waitForCall('auth.test')).headers.authorization).toBe(`Bearer ${BOT_TOKEN}`);
  });

  it('answers url_verification with the challenge', async () => {
    const res = await post({ token: 'deprecated', challenge: 'c3po-r2d2-challenge', type: 'url_verification' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ challenge: 'c3po-r2d2-challenge' });
  });

  it('refuses a wrong, a missing, a stale and a future signature, storing nothing', async () => {
    const before = (await freshStatus()).counters.badSignatures!;
    const now = Math.floor(Date.now() / 1000);
    const attempts: Array<[string, PostOptions]> = [
      ['wrong secret', { secret: 'someone-elses-signing-secret' }],
      ['no signature', { unsigned: true }],
      ['stale timestamp', { timestamp: now - 5 * 60 - 30 }],
      ['future timestamp', { timestamp: now + 5 * 60 + 30 }],
    ];
    const ids: string[] = [];
    for (const [what, o] of attempts) {
      const ts = slackTs();
      ids.push(`D0FORGED1:${ts}`);
      const res = await post(eventCallback(messageEvent({ user: 'U0FORGER', text: `forged: ${what}`, ts, channel: 'D0FORGED1' })), o);
      expect(res.status, what).toBe(401);
      expect(JSON.parse(res.body).error.code, what).toBe('unauthenticated');
    }
    expect(await stored(ids)).toEqual([]);
    // Signed four and a half minutes ago: still inside Slack's window.
    const ts = slackTs();
    const late = await post(eventCallback(messageEvent({ user: 'U0LATE', text: 'sent a while ago', ts, channel: 'D0LATE01' })), { timestamp: now - 270 });
    expect(late.status).toBe(200);
    expect(await stored([`D0LATE01:${ts}`])).toHaveLength(1);
    expect((await freshStatus()).counters.badSignatures! - before).toBe(4);
  });

  it('answers 404 for a link that does not exist', async () => {
    const res = await postSlackEvent(eventsUrl(randomUUID()), SIGNING_SECRET, eventCallback(messageEvent({ user: 'U0X', text: 'hello' })));
    expect(res.status).toBe(404);
    // Retrying cannot help: Slack is told not to.
    expect(res.headers.get('x-slack-no-retry')).toBe('1');
  });

  it('stores a direct message before answering 200, offers it, and replies in its thread with the bot token', async () => {
    slack.setUser('U0ALICE', 'Alice Citizen');
    // This message's conversation, not an earlier one offered again (offer timeout, escalation offered to all).
    const since = Date.now() - 500;
    const offered = nextEvent<ConversationView>(agent, 'conversation:offered', (c) => Date.parse(c.openedAt) >= since, 15_000);
    const ts = slackTs();
    const res = await post(eventCallback(messageEvent({ user: 'U0ALICE', text: 'Someone broke in &amp; I can’t talk <@U0LIFELINE> see <https://maps.example/x|my place>', ts, channel: 'D0ALICE01' })));
    expect(res.status).toBe(200);
    // Acknowledged after commit: the row is there the moment Slack has its 200.
    const [row] = await stored([`D0ALICE01:${ts}`]);
    expect(row?.body).toBe('Someone broke in & I can’t talk @U0LIFELINE see my place (https://maps.example/x)');
    expect(row?.contact_name).toBe('Alice Citizen');
    const conversation = await offered;
    expect(conversation.id).toBe(row!.conversation_id);
    expect(conversation.channel).toBe('slack');
    expect(conversation.contact.display).toBe('Alice Citizen');
    await request(agent, 'conversation:accept', { conversationId: conversation.id });

    const text = 'Stay hidden & silent. Police are on the way <now>.';
    const sent = await reply(conversation.id, text);
    const call = await slack.waitForCall('chat.postMessage', (c) => c.params.text?.includes('Police are on the way') === true);
    expect(call.params).toMatchObject({ channel: 'D0ALICE01', thread_ts: ts, text: 'Stay hidden &amp; silent. Police are on the way &lt;now&gt;.' });
    expect(call.headers.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    const delivered = await deliveryOf(conversation.id, sent.id);
    expect(delivered.deliveryStatus).toBe('sent');
    const [outbound] = await gw.store.sql<Array<{ channel_message_id: string }>>`select channel_message_id from messages where id = ${sent.id}`;
    expect(outbound?.channel_message_id).toMatch(/^D0ALICE01:\d+\.\d{6}$/);

    // The citizen answers in the thread: same conversation; the next reply goes to the same thread.
    const answerTs = slackTs();
    expect((await post(eventCallback(messageEvent({ user: 'U0ALICE', text: 'ok. hiding in the closet', ts: answerTs, threadTs: ts, channel: 'D0ALICE01' })))).status).toBe(200);
    expect((await stored([`D0ALICE01:${answerTs}`]))[0]?.conversation_id).toBe(conversation.id);
    await reply(conversation.id, 'Good. Stay there.');
    const second = await slack.waitForCall('chat.postMessage', (c) => c.params.text === 'Good. Stay there.');
    expect(second.params).toMatchObject({ channel: 'D0ALICE01', thread_ts: ts });
  });

  it('stores an event Slack retries (X-Slack-Retry-Num 1 and 2) once', async () => {
    const before = (await freshStatus()).counters;
    const ts = slackTs();
    const event = eventCallback(messageEvent({ user: 'U0RETRY', text: 'is anyone there?', ts, channel: 'D0RETRY01' }));
    for (const retryNum of [undefined, 1, 2]) {
      const res = await post(event, retryNum === undefined ? {} : { retryNum });
      expect(res.status, `attempt ${retryNum ?? 0}`).toBe(200);
    }
    expect(await stored([`D0RETRY01:${ts}`])).toHaveLength(1);
    const after = (await freshStatus()).counters;
    expect(after.eventsIn! - before.eventsIn!).toBe(3);
    expect(after.messagesIn! - before.messagesIn!).toBe(1);
    expect(after.duplicates! - before.duplicates!).toBe(2);
  });

  it('takes messages in a watched channel and ignores other channels, other teams, bots and housekeeping', async () => {
    const ignored = [
      eventCallback(messageEvent({ user: 'U0BOB', text: 'in a channel not watched', channel: 'C0ELSEWHRE', channelType: 'channel' })),
      eventCallback(messageEvent({ user: 'U0BOB', text: 'from another workspace', team: 'T0INTRUDER' }), { team: 'T0INTRUDER' }),
      eventCallback(messageEvent({ user: FAKE_BOT_USER_ID, text: 'our own reply', extra: { bot_id: 'B0LIFELINE', app_id: 'A0LIFELINE' } })),
      eventCallback(messageEvent({ user: 'U0OTHERBOT', text: 'another bot', extra: { subtype: 'bot_message', bot_id: 'B0OTHER' } })),
      eventCallback(messageEvent({ user: 'U0BOB', text: '<@U0BOB> has joined the channel', channel: WATCHED, channelType: 'channel', extra: { subtype: 'channel_join' } })),
      eventCallback({ type: 'reaction_added', user: 'U0BOB', reaction: 'sos', item: { type: 'message', channel: WATCHED, ts: slackTs() } }),
    ];
    for (const payload of ignored) {
      const res = await post(payload);
      expect(res.status).toBe(200);
      const event = payload.event as { channel?: string; ts?: string };
      if (event.channel && event.ts) expect(await stored([`${event.channel}:${event.ts}`]), JSON.stringify(event)).toEqual([]);
    }
    const { conversationId, ts } = await openConversation('U0BOB', 'there is a fire on the 3rd floor', WATCHED);
    await reply(conversationId, 'Firefighters are coming.');
    const call = await slack.waitForCall('chat.postMessage', (c) => c.params.text === 'Firefighters are coming.');
    expect(call.params).toMatchObject({ channel: WATCHED, thread_ts: ts });
  });

  it('records an edit and a deletion in the conversation of the original message', async () => {
    const { conversationId, ts } = await openConversation('U0CAROL', 'I am at 41 Main St', 'D0CAROL01');
    const original = { type: 'message', user: 'U0CAROL', text: 'I am at 41 Main St', ts, team: FAKE_TEAM_ID };
    const edited = { ...original, text: 'I am at 14 Main St', edited: { user: 'U0CAROL', ts: slackTs() } };
    const changeTs = slackTs();
    const change = { type: 'message', subtype: 'message_changed', hidden: true, channel: 'D0CAROL01', channel_type: 'im', ts: changeTs, event_ts: changeTs, message: edited, previous_message: original };
    expect((await post(eventCallback(change))).status).toBe(200);
    // An unfurl changes the message without the citizen editing it: nothing to record.
    const unfurlTs = slackTs();
    const unfurl = { ...change, ts: unfurlTs, event_ts: unfurlTs, message: { ...original, attachments: [{ title: 'preview' }] } };
    expect((await post(eventCallback(unfurl))).status).toBe(200);
    const deleteTs = slackTs();
    const deletion = { type: 'message', subtype: 'message_deleted', hidden: true, channel: 'D0CAROL01', channel_type: 'im', ts: deleteTs, event_ts: deleteTs, deleted_ts: ts, previous_message: edited };
    expect((await post(eventCallback(deletion))).status).toBe(200);

    const bodies = (await messagesOf(conversationId)).filter((m) => m.direction === 'inbound').map((m) => m.body);
    expect(bodies).toEqual(['I am at 41 Main St', '[edited an earlier message] I am at 14 Main St', '[deleted an earlier message] I am at 14 Main St']);
  });

  it('keeps a shared photo fetched with the bot token, and notes the files it cannot keep', async () => {
    const url = slack.addFile('scene.png', PNG, 'image/png');
    const ts = slackTs();
    const files = [
      { id: 'F0PHOTO', name: 'scene.png', mimetype: 'image/png', size: PNG.length, mode: 'hosted', url_private: url, url_private_download: `${url}?download=1` },
      { id: 'F0VIDEO', name: 'video.mp4', mimetype: 'video/mp4', size: 50 * 1024 * 1024, mode: 'hosted', url_private_download: `${slack.origin}/files/video.mp4` },
      { id: 'F0OLD', name: 'old.pdf', mimetype: 'application/pdf', mode: 'hidden_by_limit' },
    ];
    const res = await post(eventCallback(messageEvent({ user: 'U0DAVE', text: 'this is what I see', ts, channel: 'D0DAVE001', extra: { subtype: 'file_share', files } })));
    expect(res.status).toBe(200);
    const [row] = await stored([`D0DAVE001:${ts}`]);
    expect(row?.attachments).toEqual([expect.objectContaining({ name: 'scene.png', contentType: 'image/png', size: PNG.length })]);
    const [blob] = await gw.store.sql<Array<{ data: Buffer }>>`select data from attachment_blobs where sha256 = ${row!.attachments[0]!.sha256!}`;
    expect(Buffer.from(blob!.data).equals(PNG)).toBe(true);
    expect(row?.body).toBe(
      ['this is what I see', '[file video.mp4 (video/mp4, 50.0 MB) not kept: larger than 10.0 MB]', '[file old.pdf (application/pdf) not kept: hidden by the workspace plan’s history limit]'].join('\n'),
    );
    // Fetched once, with the token; the oversized video was never requested.
    expect(slack.fileRequests.map((r) => [r.path, r.headers.authorization])).toEqual([['/files/scene.png', `Bearer ${BOT_TOKEN}`]]);
  });

  it('answers Slack in time when users.info is slow, storing the message without a name', async () => {
    slack.delayUser('U0SLOW', 5000);
    const ts = slackTs();
    const res = await post(eventCallback(messageEvent({ user: 'U0SLOW', text: 'help', ts, channel: 'D0SLOW001' })));
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(2000);
    const [row] = await stored([`D0SLOW001:${ts}`]);
    expect(row?.contact_name).toBeNull();
  });

  it('fails a reply Slack refuses at once, shown in the console, and shows a refused token on the link', async () => {
    for (const [i, code] of ['channel_not_found', 'not_in_channel', 'invalid_auth'].entries()) {
      const { conversationId } = await openConversation(`U0REFUSED${i}`, `message before ${code}`, `D0REFUSED${i}`);
      const text = `reply meeting ${code}`;
      slack.respond('chat.postMessage', (c) => c.params.text === text, { body: { ok: false, error: code } });
      const failedPush = nextEvent<{ id: number; status: string; error: string | null }>(agent, 'message:status', (u) => u.status === 'failed', 15_000);
      const sent = await reply(conversationId, text);
      const pushed = await failedPush;
      expect(pushed.id).toBe(sent.id);
      expect(pushed.error).toContain(code);
      const m = await deliveryOf(conversationId, sent.id);
      expect(m.deliveryStatus).toBe('failed');
      expect(m.deliveryError).toContain(code);
      expect(postCalls(text)).toHaveLength(1);
    }
    const down = await waitFor('the link down with invalid_auth', async () => {
      const s = await statusOf();
      return s?.state === 'down' ? s : undefined;
    });
    expect(down.lastError).toContain('invalid_auth');
  });

  it('retries a reply after a 429 (waiting out Retry-After) and after a 503', async () => {
    const { conversationId } = await openConversation('U0ERIN', 'are you there?', 'D0ERIN001');
    const limited = 'reply after a rate limit';
    slack.respond('chat.postMessage', (c) => c.params.text === limited, { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } });
    const first = await reply(conversationId, limited);
    expect((await deliveryOf(conversationId, first.id)).deliveryStatus).toBe('sent');
    const [a, b] = postCalls(limited) as [SlackApiCall, SlackApiCall];
    expect(postCalls(limited)).toHaveLength(2);
    expect(b.at - a.at).toBeGreaterThanOrEqual(950);

    const unavailable = 'reply after a 503';
    slack.respond('chat.postMessage', (c) => c.params.text === unavailable, { status: 503, body: { ok: false } });
    const second = await reply(conversationId, unavailable);
    expect((await deliveryOf(conversationId, second.id)).deliveryStatus).toBe('sent');
    expect(postCalls(unavailable)).toHaveLength(2);
    // A reply Slack took: the link is up again.
    await waitFor('the link up again', async () => (await statusOf())?.state === 'up');
  });

  it('honours a rotated signing secret at once', async () => {
    const rotated = 'slack-signing-secret-rotated-4567';
    // This process has just read the link, old secret and all.
    expect((await post({ token: 'deprecated', challenge: 'before rotation', type: 'url_verification' })).status).toBe(200);
    const res = await api(gw, 'PATCH', `/api/links/${linkId}`, { token: admin, body: { secrets: { signingSecret: rotated } } });
    expect(res.status).toBe(200);
    const ts = slackTs();
    const event = eventCallback(messageEvent({ user: 'U0FRANK', text: 'after rotation', ts, channel: 'D0FRANK01' }));
    // Signed with the new secret: taken at once, though this process had read the link with the old one.
    expect((await postSlackEvent(eventsUrl(), rotated, event)).status).toBe(200);
    expect(await stored([`D0FRANK01:${ts}`])).toHaveLength(1);
    const old = eventCallback(messageEvent({ user: 'U0FRANK', text: 'signed with the old secret', channel: 'D0FRANK01' }));
    expect((await postSlackEvent(eventsUrl(), SIGNING_SECRET, old)).status).toBe(401);
  });

  it('takes nothing on a stopped link (503, Slack retries) and takes the retry once it is started', async () => {
    const res = await api<{ link: { id: string } }>(gw, 'POST', '/api/links', {
      token: admin,
      body: { channel: 'slack', name: 'stopped slack', enabled: false, settings: { apiUrl: slack.apiUrl }, secrets: { signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN } },
    });
    expect(res.status).toBe(201);
    const stoppedId = res.body.link.id;
    const ts = slackTs();
    const event = eventCallback(messageEvent({ user: 'U0GRACE', text: 'while stopped', ts, channel: 'D0GRACE01' }));
    const refused = await postSlackEvent(eventsUrl(stoppedId), SIGNING_SECRET, event);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('x-slack-no-retry')).toBeNull();
    expect(await stored([`D0GRACE01:${ts}`])).toEqual([]);
    expect((await api(gw, 'POST', `/api/links/${stoppedId}/start`, { token: admin })).status).toBe(200);
    // Slack's retries of the same event: refused until this process sees the link started, then stored once.
    let retryNum = 0;
    await waitFor('a retry accepted', async () => (await postSlackEvent(eventsUrl(stoppedId), SIGNING_SECRET, event, { retryNum: ++retryNum })).status === 200, 10_000, 100);
    expect(await stored([`D0GRACE01:${ts}`])).toHaveLength(1);
  });
});
