import { Router } from 'express';
import type { Auth } from '../../auth/sessions.ts';
import { NotFoundError } from '../../errors.ts';
import { getAgent } from '../../store/agents.ts';
import type { Db } from '../../store/db.ts';
import { deleteEmergencyContact, insertEmergencyContact, listEmergencyContacts } from '../../store/emergency-contacts.ts';
import { getQueueName } from '../../store/participants.ts';
import { requireRole } from '../middleware.ts';
import { emergencyContactsQuery, idParam, newEmergencyContactBody } from '../schemas.ts';
import { parse } from '../validate.ts';

/** `/api/emergency-contacts`: who is e-mailed when an agent flags an emergency; administrators only. */
export function emergencyContactRoutes(deps: { auth: Auth; db: Db }): Router {
  const r = Router();
  const admin = requireRole(deps.auth, 'admin');

  r.get('/emergency-contacts', admin, async (req, res) => {
    const filter = parse(emergencyContactsQuery, req.query, 'query');
    res.json({ emergencyContacts: await listEmergencyContacts(deps.db, filter) });
  });
  r.post('/emergency-contacts', admin, async (req, res) => {
    const body = parse(newEmergencyContactBody, req.body);
    if (body.queueId && !(await getQueueName(deps.db, body.queueId))) throw new NotFoundError('queue', body.queueId, 'queueId');
    if (body.agentId && !(await getAgent(deps.db, body.agentId))) throw new NotFoundError('agent', body.agentId, 'agentId');
    const contact = await insertEmergencyContact(deps.db, { queueId: body.queueId ?? null, agentId: body.agentId ?? null, name: body.name, email: body.email });
    res.status(201).json({ emergencyContact: contact });
  });
  r.delete('/emergency-contacts/:id', admin, async (req, res) => {
    const { id } = parse(idParam, req.params, 'id');
    if (!(await deleteEmergencyContact(deps.db, id))) throw new NotFoundError('emergency contact', id);
    res.status(204).end();
  });
  return r;
}
