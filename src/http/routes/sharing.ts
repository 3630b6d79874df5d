import { Router } from 'express';
import type { Auth } from '../../auth/sessions.ts';
import type { ConsoleService } from '../../console/service.ts';
import { actorOf, requireRole } from '../middleware.ts';
import { idParam, inviteBody, noteBody, transferBody } from '../schemas.ts';
import { parse } from '../validate.ts';

/**
 * Shared conversations over HTTP (the console uses the socket; both go
 * through the same service and checks): invite, join, leave, transfer, take
 * over, internal notes, one-way notices, who is in a conversation, and the
 * directory of agents and queues.
 */
export function sharingRoutes(deps: { auth: Auth; console: ConsoleService; maxMessageChars: number }): Router {
  const r = Router();
  const agent = requireRole(deps.auth, 'agent');
  const supervisor = requireRole(deps.auth, 'supervisor');
  const note = noteBody(deps.maxMessageChars);
  const transfer = transferBody(deps.maxMessageChars);
  const sharing = deps.console.sharing;
  const id = (params: unknown) => parse(idParam, params, 'id').id;

  r.get('/directory', agent, async (_req, res) => {
    res.json(await sharing.directory(actorOf(res)));
  });
  r.get('/conversations/:id/participants', agent, async (req, res) => {
    const conversationId = id(req.params);
    await deps.console.authorize(actorOf(res), conversationId);
    res.json({ participants: await sharing.participants(conversationId) });
  });
  r.post('/conversations/:id/invitations', agent, async (req, res) => {
    const conversationId = id(req.params);
    const body = parse(inviteBody, req.body);
    res.status(201).json({ conversation: await sharing.invite(actorOf(res), conversationId, body.agentId) });
  });
  r.post('/conversations/:id/join', agent, async (req, res) => {
    const conversationId = id(req.params);
    await sharing.join(actorOf(res), conversationId);
    res.json(await deps.console.getConversation(actorOf(res), conversationId));
  });
  r.post('/conversations/:id/leave', agent, async (req, res) => {
    res.json({ conversation: await sharing.leave(actorOf(res), id(req.params)) });
  });
  r.post('/conversations/:id/transfer', agent, async (req, res) => {
    const conversationId = id(req.params);
    const body = parse(transfer, req.body);
    res.json({ conversation: await sharing.transfer(actorOf(res), { conversationId, ...body }) });
  });
  r.post('/conversations/:id/takeover', supervisor, async (req, res) => {
    res.json({ conversation: await sharing.takeOver(actorOf(res), id(req.params)) });
  });
  r.post('/conversations/:id/notes', agent, async (req, res) => {
    const conversationId = id(req.params);
    const body = parse(note, req.body);
    res.status(201).json({ message: await sharing.addNote(actorOf(res), { conversationId, ...body }) });
  });
  r.post('/conversations/:id/notices', agent, async (req, res) => {
    const conversationId = id(req.params);
    const body = parse(note, req.body);
    res.status(201).json({ message: await sharing.sendNotice(actorOf(res), { conversationId, ...body }) });
  });
  return r;
}
