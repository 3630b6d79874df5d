import { Router } from 'express';
import type { Auth } from '../../auth/sessions.ts';
import type { ConsoleService } from '../../console/service.ts';
import { actorOf, requireRole } from '../middleware.ts';
import { idParam, presenceBody, replyBody, resolveBody, sinceQuery } from '../schemas.ts';
import { parse } from '../validate.ts';

/** `/api/conversations` and the agent's own presence: the console's operations over HTTP. */
export function conversationRoutes(deps: { auth: Auth; console: ConsoleService; maxMessageChars: number }): Router {
  const r = Router();
  const agent = requireRole(deps.auth, 'agent');
  const reply = replyBody(deps.maxMessageChars);

  r.put('/agents/me/presence', agent, async (req, res) => {
    const body = parse(presenceBody, req.body);
    res.json({ agent: await deps.console.setPresence(actorOf(res), body.presence) });
  });
  r.get('/conversations', agent, async (_req, res) => {
    res.json({ conversations: await deps.console.listConversations(actorOf(res)) });
  });
  r.get('/conversations/:id', agent, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    res.json(await deps.console.getConversation(actorOf(res), id));
  });
  r.get('/conversations/:id/messages', agent, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    const { after } = parse(sinceQuery, req.query, 'after');
    res.json({ messages: await deps.console.messagesSince(actorOf(res), id, after) });
  });
  r.post('/conversations/:id/accept', agent, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    res.json({ conversation: await deps.console.accept(actorOf(res), id) });
  });
  r.post('/conversations/:id/messages', agent, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    const body = parse(reply, req.body);
    res.status(201).json({ message: await deps.console.reply(actorOf(res), { conversationId: id, ...body }) });
  });
  r.post('/conversations/:id/emergency', agent, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    res.json({ conversation: await deps.console.flagEmergency(actorOf(res), id) });
  });
  r.post('/conversations/:id/resolve', agent, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    const body = parse(resolveBody, req.body);
    res.json({ conversation: await deps.console.resolve(actorOf(res), id, body.resolution) });
  });
  return r;
}
