/**
 * Attachment content over HTTP (`GET /api/messages/:messageId/attachments/:index`)
 * against a real gateway: the conversation's access rule, exact bytes, and
 * headers that never let stored content run as the gateway's page.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttachmentView, ConversationView, MessageView } from '../../src/realtime/events.ts';
import { putAttachments } from '../../src/store/attachments.ts';
import type { Attachment } from '../../src/store/schema.ts';
import { api, connectAgent, createAgents, request, startTestGateway, type AgentSocket, type TestGateway } from '../support/gateway.ts';
import { CHECKERBOARD_PNG } from '../support/png.ts';
import { nextEvent } from '../support/wait.ts';

type ErrorBody = { error: { code: string; message: string; field?: string } };

const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>');
const HTML = Buffer.from('<!doctype html><script>alert(document.domain)</script>');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const PDF_NAME = 'Straßenplan (Nord) 1.pdf';
const PDF_ENCODED = "Stra%C3%9Fenplan%20%28Nord%29%201.pdf";

describe('attachment content over HTTP', () => {
  let gw: TestGateway;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  let sam: { id: string; token: string };
  const sockets: AgentSocket[] = [];
  let conversationId: string;
  let messageId: number;
  let pushed: MessageView;

  beforeAll(async () => {
    gw = await startTestGateway();
    const agents = await createAgents(gw, [{ username: 'alice' }, { username: 'bob' }, { username: 'sam', role: 'supervisor' }]);
    [alice, bob, sam] = [agents[0]!, agents[1]!, agents[2]!];
    const [link] = await gw.store.sql`select id from channel_links where name = 'webchat'`;
    const [aliceSocket, samSocket] = await Promise.all([connectAgent(gw, alice.token), connectAgent(gw, sam.token)]);
    sockets.push(aliceSocket, samSocket);
    await request(aliceSocket, 'presence:set', { presence: 'available' });

    const stored = await putAttachments(gw.store.db, [
      { name: 'crash.png', contentType: 'image/png', content: CHECKERBOARD_PNG },
      { name: 'logo.svg', contentType: 'image/svg+xml', content: SVG },
      { name: 'page.html', contentType: 'text/html', content: HTML },
      { name: PDF_NAME, contentType: 'application/pdf', content: PDF },
    ]);
    const attachments: Attachment[] = [
      ...stored,
      { name: 'lost.jpg', contentType: 'image/jpeg', size: 3, sha256: 'f'.repeat(64) },
      { name: 'old.txt', contentType: 'text/plain', size: 4 },
    ];
    const offered = nextEvent<ConversationView>(aliceSocket, 'conversation:offered');
    // Supervisors get every new message pushed: the routing worker's view (route-snapshot.ts).
    const push = nextEvent<MessageView>(samSocket, 'message:new', (m) => m.body === 'Photo of the crash');
    const result = await gw.receive({
      channel: 'webchat',
      channelLinkId: link!.id as string,
      from: `citizen-${randomUUID()}`,
      fromName: 'Dana',
      channelMessageId: randomUUID(),
      text: 'Photo of the crash',
      attachments,
      receivedAt: new Date(),
    });
    conversationId = result.conversationId;
    messageId = result.messageId;
    expect((await offered).id).toBe(conversationId);
    pushed = await push;
    // Accepted, so the offer cannot time out and move away from alice during the tests.
    await request(aliceSocket, 'conversation:accept', { conversationId });
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await gw?.destroy();
  });

  const path = (index: number | string, message: number | string = messageId) => `/api/messages/${message}/attachments/${index}`;

  async function get(p: string, token?: string) {
    const res = await fetch(`${gw.url}${p}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, bytes, json: () => JSON.parse(bytes.toString('utf8')) as ErrorBody };
  }

  it('gives the console a url for each stored attachment and never the hash, over HTTP and in pushes', async () => {
    const expected: AttachmentView[] = [
      { name: 'crash.png', contentType: 'image/png', size: CHECKERBOARD_PNG.length, url: path(0) },
      { name: 'logo.svg', contentType: 'image/svg+xml', size: SVG.length, url: path(1) },
      { name: 'page.html', contentType: 'text/html', size: HTML.length, url: path(2) },
      { name: PDF_NAME, contentType: 'application/pdf', size: PDF.length, url: path(3) },
      { name: 'lost.jpg', contentType: 'image/jpeg', size: 3, url: path(4) },
      { name: 'old.txt', contentType: 'text/plain', size: 4 },
    ];
    const opened = await api<{ messages: MessageView[] }>(gw, 'GET', `/api/conversations/${conversationId}`, { token: alice.token });
    expect(opened.status).toBe(200);
    const [message] = opened.body.messages;
    expect(message!.attachments).toEqual(expected);
    expect(pushed.id).toBe(messageId);
    expect(pushed.attachments).toEqual(expected);
    for (const view of [message, pushed]) expect(JSON.stringify(view)).not.toMatch(/sha256|[0-9a-f]{64}/);
  });

  it('serves a photo inline with its exact bytes to the assigned agent and to a supervisor', async () => {
    for (const token of [alice.token, sam.token]) {
      const res = await get(path(0), token);
      expect(res.status).toBe(200);
      expect(res.bytes.equals(CHECKERBOARD_PNG)).toBe(true);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('content-length')).toBe(String(CHECKERBOARD_PNG.length));
      expect(res.headers.get('content-disposition')).toBe("inline; filename*=UTF-8''crash.png");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
      expect(res.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
    }
  });

  it('serves SVG, HTML and other files only as opaque downloads with an encoded name', async () => {
    const cases: Array<[number, Buffer, string]> = [
      [1, SVG, 'logo.svg'],
      [2, HTML, 'page.html'],
      [3, PDF, PDF_ENCODED],
    ];
    for (const [index, content, encodedName] of cases) {
      const res = await get(path(index), alice.token);
      expect(res.status).toBe(200);
      expect(res.bytes.equals(content)).toBe(true);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename*=UTF-8''${encodedName}`);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    }
  });

  it('refuses without a session (401) and to an agent the conversation is not assigned to (403)', async () => {
    const anonymous = await get(path(0));
    expect(anonymous.status).toBe(401);
    expect(anonymous.json().error.code).toBe('unauthenticated');
    const bogus = await get(path(0), 'not-a-session-token');
    expect(bogus.status).toBe(401);

    const other = await get(path(0), bob.token);
    expect(other.status).toBe(403);
    expect(other.json().error.code).toBe('forbidden');
    expect(other.bytes.includes(CHECKERBOARD_PNG)).toBe(false);
    // The access check comes before the index: another agent learns nothing about the attachment list.
    expect((await get(path(9), bob.token)).status).toBe(403);
  });

  it('answers malformed ids with 400 naming the field', async () => {
    for (const bad of ['abc', '0', '-1', '1.5', '1e3', '12345678901234567']) {
      const res = await get(path(0, bad), alice.token);
      expect(res.status, bad).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'invalid_request', field: 'messageId' });
    }
    for (const bad of ['x', '-1', '01', '1.0', '1000']) {
      const res = await get(path(bad), alice.token);
      expect(res.status, bad).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'invalid_request', field: 'index' });
    }
  });

  it('answers unknown messages, indexes and missing content with 404', async () => {
    const unknownMessage = await get(path(0, messageId + 1_000_000), alice.token);
    expect(unknownMessage.status).toBe(404);
    expect(unknownMessage.json().error).toMatchObject({ code: 'not_found', field: 'messageId' });

    const unknownIndex = await get(path(6), alice.token);
    expect(unknownIndex.status).toBe(404);
    expect(unknownIndex.json().error).toMatchObject({ code: 'not_found', field: 'index' });

    // lost.jpg names content the store does not hold; old.txt was never stored.
    for (const index of [4, 5]) {
      const res = await get(path(index), sam.token);
      expect(res.status, String(index)).toBe(404);
      expect(res.json().error.code).toBe('not_found');
      expect(res.json().error.message).toContain(`attachment ${index} of message ${messageId}`);
    }
  });
});
