/**
 * `/api/docs`: a valid OpenAPI 3 document that lists every route the running
 * gateway serves (the express router walked, adapters' webhooks included),
 * with request schemas generated from the zod schemas that validate them.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import express, { type Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smppSettingsSchema } from '../../adapters/smpp/config.ts';
import { toSchema } from '../../src/http/openapi.ts';
import { newAgentBody } from '../../src/http/schemas.ts';
import { mountPages } from '../../src/ui/pages.ts';
import { api, startTestGateway, type TestGateway } from '../support/gateway.ts';

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/** `:id` → `{id}`; any other express path syntax would need handling here, so it fails loudly. */
function openApiPath(path: string): string {
  if (/[*{}()?]/.test(path)) throw new Error(`route path ${path} uses syntax this test does not translate`);
  return path.replace(/:(\w+)/g, '{$1}');
}

/** Every `METHOD /path` an express app serves: its router stack walked, mounted routers with their prefixes. */
function servedRoutes(app: Express): Set<string> {
  const out = new Set<string>();
  const join = (prefix: string, path: string) => (path === '/' ? prefix || '/' : `${prefix}${path}`);
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          if (typeof path !== 'string') throw new Error(`route ${String(path)} is not a string path`);
          for (const [method, on] of Object.entries(layer.route.methods)) {
            if (method === '_all') throw new Error(`${prefix}${path} answers every method: declare the methods`);
            if (on) out.add(`${method.toUpperCase()} ${openApiPath(join(prefix, path))}`);
          }
        }
      } else if (layer.handle?.stack) {
        if (typeof layer.rawPath !== 'string') throw new Error(`a router mounted at ${String(layer.rawPath)}: not a string path`);
        walk(layer.handle.stack, join(prefix, layer.rawPath === '/' ? '' : layer.rawPath));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { name?: string }> };
};
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);
const documented = (doc: Doc) =>
  new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.has(m)).map((m) => `${m.toUpperCase()} ${path}`)));

describe('/api/docs', () => {
  let gateway: TestGateway;
  let doc: Doc;

  beforeAll(async () => {
    gateway = await startTestGateway();
    const res = await fetch(`${gateway.url}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as Doc;
  }, 60_000);

  afterAll(async () => {
    await gateway?.destroy();
  });

  it('is served without a session, also as /api/docs.json', async () => {
    const again = await api(gateway, 'GET', '/api/docs.json');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(doc);
  });

  it('is a valid OpenAPI 3 document whose references all resolve', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toMatch(/^3\./);
    const resolved = validator.resolveRefs() as unknown as Doc;
    const schema = resolved.paths['/api/auth/me']?.get?.responses as Record<string, { content: Record<string, { schema: { properties: { agent: { properties: object } } } }> }>;
    expect(Object.keys(schema['200']?.content['application/json']?.schema.properties.agent.properties ?? {})).toContain('username');
  });

  it('lists every route the gateway serves (pages aside), and nothing it does not serve', () => {
    const pages = express();
    mountPages(pages);
    const pageRoutes = servedRoutes(pages);
    const served = new Set([...servedRoutes(gateway.app)].filter((route) => !pageRoutes.has(route)));
    // The walk sees sub-routers and adapter-mounted webhooks, not only the app's own routes.
    for (const route of ['GET /healthz', 'POST /api/auth/login', 'GET /api/conversations/{id}', 'POST /webhooks/twilio/{linkId}/voice/status', 'POST /webhooks/slack/{linkId}/events']) {
      expect(served).toContain(route);
    }
    const listed = documented(doc);
    expect([...served].filter((route) => !listed.has(route)).sort(), 'served but not in /api/docs').toEqual([]);
    expect([...listed].filter((route) => !served.has(route)).sort(), 'in /api/docs but not served').toEqual([]);
  });

  it('describes request bodies with the schemas that validate them', () => {
    const body = (path: string, method: string, type = 'application/json') =>
      (doc.paths[path]?.[method]?.requestBody as { content: Record<string, { schema: Record<string, unknown> }> }).content[type]?.schema as {
        required?: string[];
        properties: Record<string, Record<string, unknown>>;
        oneOf?: Array<{ properties: Record<string, { const?: string; oneOf?: Array<{ properties: Record<string, unknown> }> }> }>;
      };

    const agent = body('/api/agents', 'post');
    expect(agent.required).toEqual(expect.arrayContaining(['username', 'password', 'displayName']));
    expect(agent.required).not.toContain('capacity'); // defaulted: a client may leave it out
    expect(agent.properties.password).toMatchObject({ type: 'string', minLength: 12 });
    expect(agent).toEqual(toSchema(newAgentBody));

    const sms = body('/api/links', 'post').oneOf?.find((variant) => variant.properties.channel?.const === 'sms');
    const modes = sms?.properties.settings?.oneOf ?? [];
    expect(modes).toHaveLength(2);
    for (const mode of modes) expect(mode.properties.port).toEqual({ type: 'integer', minimum: 1, maximum: 65535 });
    expect(sms?.properties.settings).toEqual(toSchema(smppSettingsSchema));

    expect(doc.paths['/api/conversations/{id}/messages']?.post?.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(doc.paths['/api/reports/conversations.csv']?.get?.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'status', in: 'query', required: false })]),
    );
  });

  it('says who may call: a bearer session with a role, anyone, or a signed webhook', async () => {
    expect(doc.paths['/api/agents']?.get).toMatchObject({ security: [{ bearer: [] }], 'x-lifeline-access': 'supervisor' });
    expect(doc.paths['/api/auth/login']?.post).toMatchObject({ security: [], 'x-lifeline-access': 'public' });
    expect(doc.paths['/webhooks/twilio/{linkId}/sms']?.post).toMatchObject({ security: [{ twilioSignature: [] }] });
    expect(doc.paths['/webhooks/slack/{linkId}/events']?.post).toMatchObject({ security: [{ slackSignature: [], slackTimestamp: [] }] });
    const headers = Object.values(doc.components.securitySchemes).map((s) => s.name);
    expect(headers).toEqual(expect.arrayContaining(['X-Twilio-Signature', 'X-Slack-Signature', 'X-Slack-Request-Timestamp']));

    // The documented error shape is what an error answers.
    const refused = await api<{ error: Record<string, unknown> }>(gateway, 'POST', '/api/agents', { body: { username: 'x' } });
    expect(refused.status).toBe(401);
    const shape = doc.components.schemas.Error as { properties: { error: { required: string[]; properties: object } } };
    expect(Object.keys(refused.body)).toEqual(['error']);
    for (const key of shape.properties.error.required) expect(refused.body.error).toHaveProperty(key);
    for (const key of Object.keys(refused.body.error)) expect(Object.keys(shape.properties.error.properties)).toContain(key);
  });
});
