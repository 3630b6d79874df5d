/**
 * The OpenAPI 3.1 document of the HTTP API, served at `GET /api/docs`. Every
 * operation is declared here once, with the zod schemas its route validates
 * with (imported, never restated), and turned into JSON Schema by
 * `z.toJSONSchema` in its input form: a field with a default is optional.
 * Link settings and secrets come from each channel's `LinkRunner.schemas`,
 * so the document describes the adapters this gateway runs.
 *
 * test/integration/openapi.test.ts walks the express router of a running
 * gateway: a route served but not declared here (or declared but not served)
 * fails it.
 */
import { z } from 'zod';
import type { ChannelAdapter } from '../channel.ts';
import { PRESENCES, ROLES, type Channel, type Role } from '../domain/types.ts';
import { cannedReplyBody, cannedReplyPatch, cannedReplyQuery } from './routes/canned-replies.ts';
import { confidentialBody, confirmLocationParams, locationBody, outboundBody } from './routes/conversation-extras.ts';
import { changeLinkBody, newLinkBody } from './routes/links.ts';
import { reportCsvQuery, reportExportQuery, reportSummaryQuery } from './routes/reports.ts';
import {
  attachmentParams,
  emergencyContactsQuery,
  idParam,
  inviteBody,
  loginBody,
  newAgentBody,
  newEmergencyContactBody,
  newQueueBody,
  newRuleBody,
  noteBody,
  presenceBody,
  replyBody,
  resolveBody,
  sinceQuery,
  transferBody,
  updateAgentBody,
  updateQueueBody,
  webhookLinkParams,
} from './schemas.ts';

/** The API's own version: raised on a change that breaks a client. */
const API_VERSION = '1';

type JsonSchema = Record<string, unknown>;
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** Who may call: a bearer session with at least a role, anyone, or a provider signing its webhook. */
type Access = Role | 'public' | 'twilio' | 'slack';

interface Answer {
  status: 200 | 201 | 204;
  description: string;
  /** Content type and schema of the body; absent for 204. */
  content?: { type: string; schema: JsonSchema };
}

/** One operation: what the route does, who may call it, and the schemas of what it takes. */
export interface ApiOperation {
  method: Method;
  /** OpenAPI form: `/api/conversations/{id}`. */
  path: string;
  tag: string;
  access: Access;
  summary: string;
  /** Path parameters; a path whose only parameter is `{id}` uses `idParam`. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** A zod schema, or a JSON Schema already built (link bodies, provider payloads). */
  body?: z.ZodType | JsonSchema;
  bodyType?: 'application/json' | 'application/x-www-form-urlencoded';
  ok: Answer;
}

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), in the form a client sends. */
export function toSchema(schema: z.ZodType): JsonSchema {
  const json: JsonSchema = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  delete json.$schema;
  return json;
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const object = (properties: Record<string, JsonSchema>): JsonSchema => ({ type: 'object', properties, required: Object.keys(properties) });
const json = (properties: Record<string, JsonSchema>, status: 200 | 201 = 200, description = 'done'): Answer => ({
  status,
  description,
  content: { type: 'application/json', schema: object(properties) },
});
const created = (properties: Record<string, JsonSchema>) => json(properties, 201, 'created');
const noContent: Answer = { status: 204, description: 'done; no body' };
const list = (name: string): JsonSchema => ({ type: 'array', items: ref(name) });
const loose = (description: string): JsonSchema => ({ type: 'object', description });
const text = (type: string, description: string): Answer => ({ status: 200, description, content: { type, schema: { type: 'string' } } });

/** What every error answers. */
const errorSchema: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable, machine-readable: validation_failed, not_found, username_taken, …' },
        message: { type: 'string', description: 'for people' },
        field: { type: 'string', description: 'the request field at fault (`body`, `id`, `settings.port`, …)' },
      },
    },
  },
};

/** Shapes of answers; those described loosely name the TypeScript type they follow. */
const componentSchemas: Record<string, JsonSchema> = {
  Error: errorSchema,
  Agent: {
    type: 'object',
    required: ['id', 'username', 'displayName', 'role', 'presence', 'capacity', 'load'],
    properties: {
      id: { type: 'string', format: 'uuid' },
      username: { type: 'string' },
      displayName: { type: 'string' },
      role: { type: 'string', enum: [...ROLES] },
      presence: { type: 'string', enum: [...PRESENCES] },
      capacity: { type: 'integer' },
      load: { type: 'integer' },
    },
  },
  AdminAgent: { allOf: [ref('Agent'), loose('AdminAgentView: also email, phone, skills, languages, queueIds, disabled')] },
  Conversation: loose('ConversationView (src/realtime/events.ts): id, channel, status, priority, queueId, agentId, …'),
  Message: loose('MessageView (src/realtime/events.ts): id, conversationId, direction, body, deliveryStatus, attachments, …'),
  Location: loose('a location of the conversation: source, latitude, longitude, uncertaintyMeters, confirmed, …'),
  Participant: loose('an agent in a conversation and their part (holder, invited, joined)'),
  Queue: loose('a queue with its settings (the fields of POST /api/queues)'),
  Rule: loose('a routing rule (the fields of POST /api/rules)'),
  Link: loose('LinkView: a channel link, its settings (never its secrets) and the status of the process running it'),
  CannedReply: loose('a canned reply: id, language, title, body, position'),
  EmergencyContact: loose('an emergency contact: id, queueId or agentId, name, email'),
};

const twilioForm: JsonSchema = {
  type: 'object',
  additionalProperties: { type: 'string' },
  description: "Twilio's webhook parameters (AccountSid, From, To, Body, MessageSid, CallSid, CallStatus, …)",
};
const twiml: Answer = { status: 200, description: 'TwiML, or 204 when there is nothing to say', content: { type: 'text/xml', schema: { type: 'string' } } };

/** Link bodies: the generic fields with each channel's own settings and secrets. */
function linkBodies(adapters: ReadonlyMap<Channel, ChannelAdapter>): { create: JsonSchema; change: JsonSchema } {
  const runners = [...adapters.values()].flatMap((a) => (a.links ? [{ channel: a.channel, schemas: a.links.schemas }] : []));
  if (runners.length === 0) return { create: toSchema(newLinkBody), change: toSchema(changeLinkBody) };
  const create = runners.map(({ channel, schemas }) =>
    toSchema(newLinkBody.extend({ channel: z.literal(channel), ...(schemas ? { settings: schemas.settings, secrets: schemas.secrets } : {}) })),
  );
  const known = runners.flatMap((r) => (r.schemas ? [r.schemas] : []));
  const anyOf = (schemas: z.ZodType[]) => (schemas.length > 0 ? { anyOf: schemas.map(toSchema) } : { type: 'object' });
  // A change names no channel: settings are one of the channels' (checked against the link's), secrets any subset.
  const change = toSchema(changeLinkBody);
  const properties = change.properties as Record<string, JsonSchema>;
  properties.settings = anyOf(known.map((s) => s.settings));
  properties.secrets = {
    ...anyOf(known.map((s) => (s.secrets instanceof z.ZodObject ? s.secrets.partial() : s.secrets))),
    description: 'secrets left out keep their stored values',
  };
  return { create: { oneOf: create, discriminator: { propertyName: 'channel' } }, change };
}

/** Every operation of the API this gateway serves. */
export function apiOperations(o: { adapters: ReadonlyMap<Channel, ChannelAdapter>; maxMessageChars: number }): ApiOperation[] {
  const max = o.maxMessageChars;
  const links = linkBodies(o.adapters);
  const conversation = json({ conversation: ref('Conversation') });
  const withMessages = json({ conversation: ref('Conversation'), messages: list('Message') });
  const locations = (status: 200 | 201) => json({ locations: list('Location') }, status);
  const op = (method: Method, path: string, tag: string, access: Access, summary: string, ok: Answer, more: Partial<ApiOperation> = {}): ApiOperation => ({
    method,
    path,
    tag,
    access,
    summary,
    ok,
    ...more,
  });
  const c = '/api/conversations/{id}';
  const ops: ApiOperation[] = [
    op('get', '/healthz', 'health', 'public', 'The process is up', json({ status: { const: 'ok' } })),
    op('get', '/readyz', 'health', 'public', 'Database and queue reachable (503 and the failing check otherwise)', json({ status: { type: 'string' }, database: { type: 'string' }, queue: { type: 'string' } })),
    op('get', '/metrics', 'health', 'public', 'Prometheus metrics', text('text/plain', 'Prometheus text exposition format')),
    op('get', '/api/docs', 'docs', 'public', 'This document (OpenAPI 3.1)', { status: 200, description: 'the OpenAPI document', content: { type: 'application/json', schema: { type: 'object' } } }),
    op('get', '/api/docs.json', 'docs', 'public', 'This document (OpenAPI 3.1), by a name tools recognise', { status: 200, description: 'the OpenAPI document', content: { type: 'application/json', schema: { type: 'object' } } }),

    op('post', '/api/auth/login', 'auth', 'public', 'Sign in: a session token for the Authorization header', json({ token: { type: 'string' }, agent: ref('Agent') }), { body: loginBody }),
    op('post', '/api/auth/logout', 'auth', 'agent', 'Revoke this session', noContent),
    op('get', '/api/auth/me', 'auth', 'agent', 'The signed-in agent', json({ agent: ref('Agent') })),
    op('put', '/api/agents/me/presence', 'auth', 'agent', "Set one's own presence", json({ agent: ref('Agent') }), { body: presenceBody }),

    op('get', '/api/conversations', 'conversations', 'agent', "Open conversations by priority (an agent's own; all for supervisors)", json({ conversations: list('Conversation') })),
    op('post', '/api/conversations/outbound', 'conversations', 'agent', 'Text-from-911: open a conversation to a number or address', created({ conversation: ref('Conversation'), message: ref('Message'), invitationExpiresAt: { type: ['string', 'null'] } }), { body: outboundBody(max) }),
    op('get', c, 'conversations', 'agent', 'A conversation and its messages', withMessages),
    op('get', `${c}/messages`, 'conversations', 'agent', 'Messages after an id (resync)', json({ messages: list('Message') }), { query: sinceQuery }),
    op('post', `${c}/messages`, 'conversations', 'agent', 'Reply to the citizen (idempotent on clientId)', created({ message: ref('Message') }), { body: replyBody(max) }),
    op('post', `${c}/accept`, 'conversations', 'agent', 'Take an offered conversation', conversation),
    op('post', `${c}/resolve`, 'conversations', 'agent', 'Close the conversation as handled, false alarm, …', conversation, { body: resolveBody }),
    op('post', `${c}/emergency`, 'conversations', 'agent', 'Flag an emergency (holder or supervisor): callback window, emergency contacts e-mailed', conversation),
    op('post', `${c}/confidential`, 'conversations', 'agent', 'Make content confidential, or lift it (holder or supervisor; only supervisors lift)', conversation, { body: confidentialBody }),
    op('get', `${c}/locations`, 'locations', 'agent', 'Location history (anyone in the conversation)', locations(200)),
    op('post', `${c}/locations`, 'locations', 'agent', 'Add a location an agent typed in', locations(201), { body: locationBody }),
    op('post', `${c}/locations/{locationId}/confirm`, 'locations', 'agent', 'Confirm a location: never replaced automatically afterwards', locations(200), { params: confirmLocationParams }),

    op('get', '/api/directory', 'sharing', 'agent', 'Agents and queues to invite or transfer to', json({ agents: list('Agent'), queues: { type: 'array', items: loose('a queue id and name') } })),
    op('get', `${c}/participants`, 'sharing', 'agent', 'Who is in the conversation', json({ participants: list('Participant') })),
    op('post', `${c}/invitations`, 'sharing', 'agent', 'Invite an agent or supervisor into the conversation', created({ conversation: ref('Conversation') }), { body: inviteBody }),
    op('post', `${c}/join`, 'sharing', 'agent', 'Join (supervisors any conversation; agents when invited)', withMessages),
    op('post', `${c}/leave`, 'sharing', 'agent', 'Leave a conversation one joined', conversation),
    op('post', `${c}/transfer`, 'sharing', 'agent', 'Transfer to an agent or a queue with an internal note (holder or supervisor)', conversation, { body: transferBody(max) }),
    op('post', `${c}/takeover`, 'sharing', 'supervisor', 'Take the conversation over from its holder', conversation),
    op('post', `${c}/notes`, 'sharing', 'agent', 'An internal note, never sent to the citizen', created({ message: ref('Message') }), { body: noteBody(max) }),
    op('post', `${c}/notices`, 'sharing', 'agent', 'A one-way notice to the citizen', created({ message: ref('Message') }), { body: noteBody(max) }),
    op('get', '/api/messages/{messageId}/attachments/{index}', 'conversations', 'agent', "An attachment's content (images inline, anything else as a download)", {
      status: 200,
      description: 'the content: an image type, or application/octet-stream',
      content: { type: 'application/octet-stream', schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
    }, { params: attachmentParams }),

    op('get', '/api/agents', 'admin', 'supervisor', 'Agents with presence, load and settings', json({ agents: list('AdminAgent') })),
    op('post', '/api/agents', 'admin', 'admin', 'Create an agent', created({ agent: ref('AdminAgent') }), { body: newAgentBody }),
    op('patch', '/api/agents/{id}', 'admin', 'admin', 'Change an agent: only the fields named', json({ agent: ref('AdminAgent') }), { body: updateAgentBody }),
    op('get', '/api/queues', 'admin', 'agent', 'Queues and their settings', json({ queues: list('Queue') })),
    op('post', '/api/queues', 'admin', 'admin', 'Create a queue', created({ queue: ref('Queue') }), { body: newQueueBody }),
    op('patch', '/api/queues/{id}', 'admin', 'admin', 'Change a queue: only the fields named', json({ queue: ref('Queue') }), { body: updateQueueBody }),
    op('get', '/api/rules', 'admin', 'supervisor', 'Routing rules in order', json({ rules: list('Rule') })),
    op('post', '/api/rules', 'admin', 'admin', 'Add a routing rule', created({ rule: ref('Rule') }), { body: newRuleBody }),
    op('get', '/api/emergency-contacts', 'admin', 'admin', 'Who is e-mailed when an agent flags an emergency', json({ emergencyContacts: list('EmergencyContact') }), { query: emergencyContactsQuery }),
    op('post', '/api/emergency-contacts', 'admin', 'admin', 'Add an emergency contact of a queue or an agent (exactly one)', created({ emergencyContact: ref('EmergencyContact') }), { body: newEmergencyContactBody }),
    op('delete', '/api/emergency-contacts/{id}', 'admin', 'admin', 'Remove an emergency contact', noContent),
    op('get', '/api/canned-replies', 'canned replies', 'agent', 'Canned replies, of one language if given', json({ cannedReplies: list('CannedReply') }), { query: cannedReplyQuery }),
    op('post', '/api/canned-replies', 'canned replies', 'admin', 'Add a canned reply', created({ cannedReply: ref('CannedReply') }), { body: cannedReplyBody }),
    op('patch', '/api/canned-replies/{id}', 'canned replies', 'admin', 'Change a canned reply', json({ cannedReply: ref('CannedReply') }), { body: cannedReplyPatch }),
    op('delete', '/api/canned-replies/{id}', 'canned replies', 'admin', 'Remove a canned reply', noContent),

    op('get', '/api/links', 'links', 'supervisor', 'Channel links and their live status', json({ links: list('Link') })),
    op('get', '/api/links/{id}', 'links', 'supervisor', 'One channel link', json({ link: ref('Link') })),
    op('post', '/api/links', 'links', 'admin', "Add a channel link; settings and secrets are checked by the channel's schema", created({ link: ref('Link') }), { body: links.create }),
    op('patch', '/api/links/{id}', 'links', 'admin', 'Change a link: only the fields named (secrets are write-only)', json({ link: ref('Link') }), { body: links.change }),
    op('post', '/api/links/{id}/start', 'links', 'admin', 'Enable the link', json({ link: ref('Link') })),
    op('post', '/api/links/{id}/stop', 'links', 'admin', 'Disable the link', json({ link: ref('Link') })),
    op('delete', '/api/links/{id}', 'links', 'admin', 'Delete the link', noContent),

    op('get', '/api/reports/summary', 'reports', 'supervisor', 'Figures overall, per channel and per queue', json({ from: { type: 'string' }, to: { type: 'string' }, filters: { type: 'object' } }), { query: reportSummaryQuery }),
    op('get', '/api/reports/hourly', 'reports', 'supervisor', 'Conversations per UTC hour', json({ from: { type: 'string' }, to: { type: 'string' }, hours: { type: 'array', items: { type: 'object' } } }), { query: reportExportQuery }),
    op('get', '/api/reports/conversations', 'reports', 'supervisor', 'Conversations with message counts and, when not confidential, bodies', json({ from: { type: 'string' }, to: { type: 'string' }, conversations: { type: 'array', items: { type: 'object' } } }), { query: reportExportQuery }),
    op('get', '/api/reports/conversations.csv', 'reports', 'supervisor', 'One CSV row per conversation, no content', text('text/csv', 'CSV with a header row, streamed'), { query: reportCsvQuery }),
  ];
  if (o.adapters.has('twilio')) {
    const hooks: Array<[string, string]> = [
      ['sms', 'An SMS or MMS to one of the account numbers'],
      ['sms/status', 'Delivery status of a reply'],
      ['voice', 'An incoming call'],
      ['voice/status', 'Call status'],
      ['voice/dial-result', 'Outcome of ringing the centre'],
      ['voice/queue-result', 'Outcome of waiting in the Twilio queue'],
      ['voice/queue-wait', 'What a caller waiting in the queue hears'],
      ['voice/recording', 'A call recording or voicemail is ready'],
      ['voice/transcription', 'A voicemail transcription is ready'],
      ['voice/done', 'The end of a call'],
    ];
    for (const [hook, summary] of hooks) {
      ops.push(op('post', `/webhooks/twilio/{linkId}/${hook}`, 'webhooks', 'twilio', summary, twiml, { params: webhookLinkParams, body: twilioForm, bodyType: 'application/x-www-form-urlencoded' }));
    }
  }
  if (o.adapters.has('slack')) {
    ops.push(
      op('post', '/webhooks/slack/{linkId}/events', 'webhooks', 'slack', "Slack's Events API requests for one link (answered 200 once stored; 5xx makes Slack retry)", json({ challenge: { type: 'string' } }, 200, 'the challenge of a url_verification; otherwise 200 with no body'), {
        params: webhookLinkParams,
        body: loose('an Events API payload: url_verification or event_callback'),
      }),
    );
  }
  return ops;
}

const errorAnswer = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });
const SECURITY: Record<Exclude<Access, Role>, Array<Record<string, string[]>>> = {
  public: [],
  twilio: [{ twilioSignature: [] }],
  slack: [{ slackSignature: [], slackTimestamp: [] }],
};

/** OpenAPI parameters from a zod object schema; path parameters must match the path's exactly. */
function parameters(where: 'path' | 'query', schema: z.ZodObject): JsonSchema[] {
  const s = toSchema(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({ name, in: where, required: where === 'path' || (s.required ?? []).includes(name), schema: p }));
}

function operationObject(op: ApiOperation): JsonSchema {
  const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  const params = op.params ?? (names.length > 0 ? idParam : undefined);
  const path = params ? parameters('path', params) : [];
  if (path.map((p) => p.name).join() !== names.join()) throw new Error(`${op.method} ${op.path}: path parameters ${names.join()} not described by its schema`);
  const role = op.access === 'public' || op.access === 'twilio' || op.access === 'slack' ? undefined : op.access;
  const responses: Record<string, unknown> = {
    [op.ok.status]: { description: op.ok.description, ...(op.ok.content ? { content: { [op.ok.content.type]: { schema: op.ok.content.schema } } } : {}) },
  };
  if (path.length > 0 || op.query || op.body) responses[400] = { $ref: '#/components/responses/BadRequest' };
  if (role || op.access === 'slack') responses[401] = { $ref: '#/components/responses/Unauthorized' };
  if (role || op.access === 'twilio') responses[403] = { $ref: '#/components/responses/Forbidden' };
  if (path.length > 0) responses[404] = { $ref: '#/components/responses/NotFound' };
  responses.default = { $ref: '#/components/responses/Error' };
  const body = op.body instanceof z.ZodType ? toSchema(op.body) : op.body;
  return {
    operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
    summary: op.summary,
    tags: [op.tag],
    ...(role ? { description: `Requires a session with the ${role} role or higher.` } : {}),
    'x-lifeline-access': op.access,
    security: role ? [{ bearer: [] }] : SECURITY[op.access as Exclude<Access, Role>],
    parameters: [...path, ...(op.query ? parameters('query', op.query) : [])],
    ...(body ? { requestBody: { required: true, content: { [op.bodyType ?? 'application/json']: { schema: body } } } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of this gateway's HTTP API. */
export function buildOpenApiDocument(o: { adapters: ReadonlyMap<Channel, ChannelAdapter>; maxMessageChars: number }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of apiOperations(o)) {
    const item = (paths[op.path] ??= {});
    if (item[op.method]) throw new Error(`${op.method} ${op.path} is declared twice`);
    item[op.method] = operationObject(op);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Lifeline HTTP API',
      version: API_VERSION,
      description:
        'Emergency text-to-911 gateway. Bodies are JSON unless stated; every error is `{ "error": { "code", "message", "field"? } }`. ' +
        'Authenticated operations take `Authorization: Bearer <token>` from `POST /api/auth/login`; roles rank agent < supervisor < admin. ' +
        'Webhooks are public but signed by the provider, with the secret of the link in their path.',
    },
    paths,
    components: {
      schemas: componentSchemas,
      responses: {
        BadRequest: errorAnswer('a parameter or the body is invalid; `field` names it'),
        Unauthorized: errorAnswer('no valid session, or a missing or wrong signature'),
        Forbidden: errorAnswer("the session's role or the conversation does not allow it, or the signature is wrong"),
        NotFound: errorAnswer('no such resource'),
        Error: errorAnswer('any other failure: 409 conflict, 413 too large, 415 encoding, 429, 5xx'),
      },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a session token from POST /api/auth/login' },
        twilioSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Twilio-Signature',
          description: "base64 HMAC-SHA1 over the link's publicBaseUrl, the request path and the sorted form parameters, keyed with the link's auth token",
        },
        slackSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Slack-Signature',
          description: "`v0=` and the hex HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<raw body>`, keyed with the link's signing secret",
        },
        slackTimestamp: { type: 'apiKey', in: 'header', name: 'X-Slack-Request-Timestamp', description: 'Unix seconds; refused outside five minutes of now' },
      },
    },
  };
}
