import { Router, type RequestHandler } from 'express';
import type { ChannelAdapter } from '../../channel.ts';
import type { Channel } from '../../domain/types.ts';
import { buildOpenApiDocument } from '../openapi.ts';

/**
 * `/api/docs` (and `/api/docs.json`): the OpenAPI document, public like any
 * open-source API description. Built on first request, not at start-up: a
 * problem in the document must never keep the gateway from taking calls.
 */
export function docsRoutes(deps: { adapters: ReadonlyMap<Channel, ChannelAdapter>; maxMessageChars: number }): Router {
  const r = Router();
  let document: string | undefined;
  const send: RequestHandler = (_req, res) => {
    document ??= JSON.stringify(buildOpenApiDocument(deps));
    res.type('application/json').set('Cache-Control', 'no-cache').send(document);
  };
  r.get('/docs', send);
  r.get('/docs.json', send);
  return r;
}
