import { Router } from 'express';
import { z } from 'zod';
import type { ChannelAdapter } from '../../channel.ts';
import type { Auth } from '../../auth/sessions.ts';
import { CHANNELS, type Channel } from '../../domain/types.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import type { Db } from '../../store/db.ts';
import { getLink, insertLink, listLinks, softDeleteLink, toLinkView, updateLink } from '../../store/links.ts';
import { requireRole } from '../middleware.ts';
import { idParam } from '../schemas.ts';
import { parse } from '../validate.ts';

/** A new link; `settings` and `secrets` are then validated by the channel's own schemas (`LinkRunner.schemas`). */
export const newLinkBody = z.object({
  channel: z.enum(CHANNELS),
  name: z.string().trim().min(1).max(120),
  settings: z.record(z.string(), z.unknown()).default({}),
  secrets: z.record(z.string(), z.unknown()).default({}),
  enabled: z.boolean().default(true),
});
// No defaults here: a field left out of a change keeps its stored value (a secrets-only change must not reset settings or re-enable).
export const changeLinkBody = z.object({
  name: newLinkBody.shape.name.optional(),
  settings: z.record(z.string(), z.unknown()).optional(),
  secrets: z.record(z.string(), z.unknown()).optional(),
  enabled: z.boolean().optional(),
});

/**
 * `/api/links`: channel links administrators manage at run time. Settings are
 * validated by the channel's own schema; secrets are write-only.
 */
export function linkRoutes(deps: { auth: Auth; db: Db; adapters: ReadonlyMap<Channel, ChannelAdapter>; poke: () => Promise<void> }): Router {
  const r = Router();
  const supervisor = requireRole(deps.auth, 'supervisor');
  const admin = requireRole(deps.auth, 'admin');
  const runnerFor = (channel: Channel) => {
    const runner = deps.adapters.get(channel)?.links;
    if (!runner) throw new ValidationError(`${channel} links are not managed here`, 'channel');
    return runner;
  };
  const viewOf = async (id: string) => {
    const row = await getLink(deps.db, id);
    if (!row) throw new NotFoundError('link', id);
    return toLinkView(row.link, row.lease);
  };

  r.get('/links', supervisor, async (_req, res) => {
    res.json({ links: (await listLinks(deps.db)).map((l) => toLinkView(l.link, l.lease)) });
  });
  r.get('/links/:id', supervisor, async (req, res) => {
    res.json({ link: await viewOf(parse(idParam, req.params, 'id').id) });
  });
  r.post('/links', admin, async (req, res) => {
    const body = parse(newLinkBody, req.body);
    const parsed = runnerFor(body.channel).parse({ settings: body.settings, secrets: body.secrets });
    const link = await insertLink(deps.db, { channel: body.channel, name: body.name, enabled: body.enabled, ...parsed });
    if (!link) throw new ConflictError(`a link named ${body.name} exists`, 'name_taken');
    await deps.poke();
    res.status(201).json({ link: await viewOf(link.id) });
  });
  r.patch('/links/:id', admin, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    const body = parse(changeLinkBody, req.body);
    const current = await getLink(deps.db, id);
    if (!current) throw new NotFoundError('link', id);
    const patch: Parameters<typeof updateLink>[2] = { name: body.name, enabled: body.enabled };
    if (body.settings !== undefined || body.secrets !== undefined) {
      // Secrets left out keep their stored values: the API never shows them to be sent back.
      const parsed = runnerFor(current.link.channel).parse({
        settings: body.settings ?? current.link.settings,
        secrets: { ...current.link.secrets, ...(body.secrets ?? {}) },
      });
      patch.settings = parsed.settings;
      patch.secrets = parsed.secrets;
    }
    await updateLink(deps.db, id, patch);
    await deps.poke();
    res.json({ link: await viewOf(id) });
  });
  for (const [action, enabled] of [['start', true], ['stop', false]] as const) {
    r.post(`/links/:id/${action}`, admin, async (req, res) => {
      const { id } = parse(idParam, req.params, 'id');
      if (!(await updateLink(deps.db, id, { enabled }))) throw new NotFoundError('link', id);
      await deps.poke();
      res.json({ link: await viewOf(id) });
    });
  }
  r.delete('/links/:id', admin, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    if (!(await softDeleteLink(deps.db, id))) throw new NotFoundError('link', id);
    await deps.poke();
    res.status(204).end();
  });
  return r;
}
