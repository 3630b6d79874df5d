import { Router } from 'express';
import { z } from 'zod';
import type { Auth } from '../../auth/sessions.ts';
import type { ConsoleService } from '../../console/service.ts';
import type { LocationService } from '../../console/locations.ts';
import type { OutreachService } from '../../console/outreach.ts';
import { actorOf, requireRole } from '../middleware.ts';
import { idParam } from '../schemas.ts';
import { parse } from '../validate.ts';

/** A location an agent types in. */
export const locationBody = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  uncertaintyMeters: z.number().min(0).max(1_000_000).nullable().optional(),
});
/** `/conversations/:id/locations/:locationId/confirm`. */
export const confirmLocationParams = idParam.extend({ locationId: z.string().regex(/^[1-9][0-9]{0,14}$/, 'must be a location id').transform(Number) });
export const confidentialBody = z.object({ confidential: z.boolean() });
/** Text-from-911: a conversation the centre opens to a number or address. */
export const outboundBody = (maxChars: number) =>
  z.object({
    linkId: z.string().uuid('must be a UUID'),
    address: z.string().trim().min(3).max(320),
    text: z.string().trim().min(1, 'must not be empty').max(maxChars, `at most ${maxChars} characters`),
    invite: z.boolean().default(false),
  });

/**
 * The emergency workflows on a conversation: text-from-911
 * (`POST /conversations/outbound`), locations, confidentiality.
 */
export function conversationExtraRoutes(deps: {
  auth: Auth;
  console: ConsoleService;
  locations: LocationService;
  outreach: OutreachService;
  maxMessageChars: number;
}): Router {
  const r = Router();
  const agent = requireRole(deps.auth, 'agent');
  const outbound = outboundBody(deps.maxMessageChars);

  r.post('/conversations/outbound', agent, async (req, res) => {
    res.status(201).json(await deps.outreach.start(actorOf(res), parse(outbound, req.body)));
  });
  r.get('/conversations/:id/locations', agent, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    res.json({ locations: await deps.locations.list(actorOf(res), id) });
  });
  r.post('/conversations/:id/locations', agent, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    res.status(201).json({ locations: await deps.locations.add(actorOf(res), id, parse(locationBody, req.body)) });
  });
  r.post('/conversations/:id/locations/:locationId/confirm', agent, async (req, res) => {
    const { id, locationId } = parse(confirmLocationParams, req.params, 'params');
    res.json({ locations: await deps.locations.confirm(actorOf(res), id, locationId) });
  });
  r.post('/conversations/:id/confidential', agent, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    const body = parse(confidentialBody, req.body);
    res.json({ conversation: await deps.console.setConfidential(actorOf(res), id, body.confidential) });
  });
  return r;
}
