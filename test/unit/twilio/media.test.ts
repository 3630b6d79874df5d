/**
 * Fetching files Twilio hosts: the account's credentials go only to the API's
 * own origin (a redirect to the media store is followed without them), other
 * origins are not fetched at all, and the size cap holds whether or not the
 * length is declared.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTwilioFile, FetchRefused } from '../../../adapters/twilio/rest.ts';

interface Peer {
  url: string;
  seen: Array<{ path: string; authorization: string | undefined }>;
  server: http.Server;
}

async function peer(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Peer> {
  const seen: Peer['seen'] = [];
  const server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('fetchTwilioFile', () => {
  let api: Peer;
  let storage: Peer;
  const photo = Buffer.from('a photo');
  const auth = { accountSid: `AC${'1'.repeat(32)}`, authToken: 'secret-token-0123456789' };

  beforeAll(async () => {
    storage = await peer((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'image/jpeg' }); // chunked: no length declared
        res.write(Buffer.alloc(600));
        res.end(Buffer.alloc(600));
        return;
      }
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(photo);
    });
    api = await peer((req, res) => {
      res.writeHead(302, { location: `${storage.url}${req.url === '/Media/big' ? '/big' : '/photo'}` });
      res.end();
    });
  });
  afterAll(async () => {
    for (const p of [api, storage]) await new Promise((resolve) => p.server.close(resolve));
  });

  it('authenticates to the API and follows its redirect to the media store without the credentials', async () => {
    const file = await fetchTwilioFile(`${api.url}/Media/ME1`, { ...auth, apiBaseUrl: api.url, maxBytes: 1024 });
    expect(file.content.equals(photo)).toBe(true);
    expect(file.contentType).toBe('image/jpeg');
    expect(api.seen.at(-1)?.authorization).toBe(`Basic ${Buffer.from(`${auth.accountSid}:${auth.authToken}`).toString('base64')}`);
    expect(storage.seen.at(-1)).toEqual({ path: '/photo', authorization: undefined });
  });

  it('does not fetch from another origin', async () => {
    const before = storage.seen.length;
    await expect(fetchTwilioFile(`${storage.url}/photo`, { ...auth, apiBaseUrl: api.url, maxBytes: 1024 })).rejects.toThrow(FetchRefused);
    expect(storage.seen.length).toBe(before);
  });

  it('stops reading past the size cap when no length is declared', async () => {
    await expect(fetchTwilioFile(`${api.url}/Media/big`, { ...auth, apiBaseUrl: api.url, maxBytes: 1000 })).rejects.toThrow(/over the 1000-byte limit/);
  });
});
