/**
 * A fake Twilio REST API, in process, on a loopback port: what the gateway's
 * twilio client reaches once pointed at it (`createTwilioAdapter({ apiBaseUrl
 * })`). It authenticates every request with HTTP Basic (account SID and auth
 * token, as Twilio does), records the messages created, answers scripted
 * failures per destination number, and serves MMS media and recordings.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A Twilio SID: prefix and 32 hex digits. */
export const newSid = (prefix: string): string => `${prefix}${randomBytes(16).toString('hex')}`;

export interface CreatedMessage {
  sid: string;
  /** The form parameters the client posted (To, From or MessagingServiceSid, Body, StatusCallback). */
  params: Record<string, string>;
  /** The Basic credentials it authenticated with. */
  user: string;
  password: string;
  at: number;
}

export interface ScriptedAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface FakeTwilio {
  readonly url: string;
  readonly accountSid: string;
  authToken: string;
  readonly messages: CreatedMessage[];
  /** Every attempt to create a message, scripted failures included: the destination and the HTTP status answered. */
  readonly attempts: Array<{ to: string; status: number }>;
  /** Requests refused, by path. */
  readonly refused: string[];
  /** Account fetches (the gateway's credential check). */
  accountChecks: number;
  /** Answers the next requests sending to `to` with these, in order, before succeeding again. */
  script(to: string, answers: ScriptedAnswer[]): void;
  /** Hosts a media file of a message; returns its Twilio-style URL. */
  addMedia(content: Buffer, contentType: string): string;
  /** Hosts a recording; returns its RecordingUrl (no extension, as Twilio sends it). */
  addRecording(content: Buffer): { sid: string; url: string };
  /** Requests for media and recordings, with whether they carried the right credentials. */
  readonly fileRequests: Array<{ path: string; authenticated: boolean }>;
  stop(): Promise<void>;
}

/** Twilio's error body. */
export const twilioError = (status: number, code: number, message: string): ScriptedAnswer => ({
  status,
  body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
});

export async function startFakeTwilio(): Promise<FakeTwilio> {
  const accountSid = newSid('AC');
  const files = new Map<string, { content: Buffer; contentType: string }>();
  const scripts = new Map<string, ScriptedAnswer[]>();
  let url = '';

  const readBody = (req: http.IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const fake: FakeTwilio = {
    url: '',
    accountSid,
    authToken: randomBytes(16).toString('hex'),
    messages: [],
    attempts: [],
    refused: [],
    accountChecks: 0,
    fileRequests: [],
    script(to, answers) {
      scripts.set(to, [...(scripts.get(to) ?? []), ...answers]);
    },
    addMedia(content, contentType) {
      const path = `/2010-04-01/Accounts/${accountSid}/Messages/${newSid('MM')}/Media/${newSid('ME')}`;
      files.set(path, { content, contentType });
      return `${url}${path}`;
    },
    addRecording(content) {
      const sid = newSid('RE');
      const path = `/2010-04-01/Accounts/${accountSid}/Recordings/${sid}`;
      files.set(`${path}.mp3`, { content, contentType: 'audio/mpeg' });
      return { sid, url: `${url}${path}` };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const credentials = (req: http.IncomingMessage) => {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return undefined;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      const auth = credentials(req);
      const authenticated = auth?.user === accountSid && auth.password === fake.authToken;
      const file = files.get(path);
      if (req.method === 'GET' && file) {
        fake.fileRequests.push({ path, authenticated });
        if (!authenticated) return send(res, 401, twilioError(401, 20003, 'Authenticate').body);
        res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.content.length) });
        res.end(file.content);
        return;
      }
      if (!authenticated) {
        fake.refused.push(path);
        return send(res, 401, twilioError(401, 20003, 'Authenticate').body);
      }
      if (req.method === 'GET' && path === `/2010-04-01/Accounts/${accountSid}.json`) {
        fake.accountChecks++;
        return send(res, 200, { sid: accountSid, friendly_name: 'PSAP test account', status: 'active', type: 'Full' });
      }
      if (req.method === 'POST' && path === `/2010-04-01/Accounts/${accountSid}/Messages.json`) {
        const params = Object.fromEntries(new URLSearchParams(await readBody(req)));
        const scripted = scripts.get(params.To ?? '')?.shift();
        fake.attempts.push({ to: params.To ?? '', status: scripted?.status ?? 201 });
        if (scripted) return send(res, scripted.status, scripted.body);
        const sid = newSid('SM');
        fake.messages.push({ sid, params, user: auth.user, password: auth.password, at: Date.now() });
        return send(res, 201, {
          sid,
          account_sid: accountSid,
          to: params.To,
          from: params.From ?? null,
          messaging_service_sid: params.MessagingServiceSid ?? null,
          body: params.Body,
          status: 'queued',
          num_segments: '1',
          direction: 'outbound-api',
          api_version: '2010-04-01',
          date_created: new Date().toUTCString(),
          uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
        });
      }
      send(res, 404, twilioError(404, 20404, `The requested resource ${path} was not found`).body);
    })().catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(fake, { url });
  return fake;
}
