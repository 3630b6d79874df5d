/**
 * Authentication, role checks and the JSON error answer.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { Auth, Actor } from '../auth/sessions.ts';
import { roleAtLeast, type Role } from '../domain/types.ts';
import { AppError, ForbiddenError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** The bearer token of a request, if any. */
export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header?.startsWith('Bearer ')) return undefined;
  return header.slice('Bearer '.length).trim() || undefined;
}

/** Requires a live session with at least `role`; the actor is then in res.locals.actor. */
export function requireRole(auth: Auth, role: Role): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const actor = await auth.authenticate(bearerToken(req));
    if (!roleAtLeast(actor.role, role)) throw new ForbiddenError(`requires the ${role} role`);
    res.locals.actor = actor;
    next();
  };
}

/** The authenticated actor of a request that passed requireRole. */
export function actorOf(res: Response): Actor {
  return res.locals.actor as Actor;
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

/** Maps every error to `{ error: { code, message, field? } }` with the right status. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (err instanceof AppError) {
      if (err.status >= 500) log.error({ err, path: req.path }, 'request failed');
      res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
      return;
    }
    const e = err as BodyParserError;
    if (e?.type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'invalid_json', message: 'request body is not valid JSON', field: 'body' } });
      return;
    }
    if (e?.type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'payload_too_large', message: `request body exceeds ${e.limit} bytes`, field: 'body' } });
      return;
    }
    if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
      res.status(415).json({ error: { code: 'unsupported_encoding', message: e.message, field: 'body' } });
      return;
    }
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: { code: 'bad_request', message: e.message } });
      return;
    }
    log.error({ err, path: req.path }, 'unhandled request error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}
