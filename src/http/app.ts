/**
 * createApp(deps): the express application. Webhooks and pages are mounted
 * by their owners on the returned app; everything under /api answers JSON.
 */
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { ChannelAdapter } from '../channel.ts';
import type { Auth } from '../auth/sessions.ts';
import type { Channel } from '../domain/types.ts';
import type { ConsoleService } from '../console/service.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { QueueBackend } from '../queue/backend.ts';
import type { Enqueuer } from '../queue/enqueue.ts';
import type { Db } from '../store/db.ts';
import type { RuleCache } from '../store/rules.ts';
import { errorHandler } from './middleware.ts';
import { adminRoutes } from './routes/admin.ts';
import { attachmentRoutes } from './routes/attachments.ts';
import { authRoutes } from './routes/auth.ts';
import { conversationRoutes } from './routes/conversations.ts';
import { healthRoutes } from './routes/health.ts';
import { linkRoutes } from './routes/links.ts';
import { sharingRoutes } from './routes/sharing.ts';
import { cannedReplyRoutes } from './routes/canned-replies.ts';
import { conversationExtraRoutes } from './routes/conversation-extras.ts';
import { reportRoutes } from './routes/reports.ts';
import { emergencyContactRoutes } from './routes/emergency-contacts.ts';
import { docsRoutes } from './routes/docs.ts';
import type { LocationService } from '../console/locations.ts';
import type { OutreachService } from '../console/outreach.ts';

export interface AppDeps {
  db: Db;
  auth: Auth;
  console: ConsoleService;
  locations: LocationService;
  outreach: OutreachService;
  queues: QueueBackend;
  enqueue: Enqueuer;
  rules: RuleCache;
  metrics: Metrics;
  log: Logger;
  bodyLimit: string;
  maxMessageChars: number;
  adapters: ReadonlyMap<Channel, ChannelAdapter>;
  /** Applies link changes in this process now (other processes follow on their next pass). */
  poke: () => Promise<void>;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:', 'blob:'],
          connectSrc: ["'self'", 'ws:', 'wss:'],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
        },
      },
    }),
  );
  app.use(healthRoutes(deps));
  const api = express.Router();
  api.use(express.json({ limit: deps.bodyLimit, strict: true }));
  api.use('/auth', authRoutes(deps));
  // Before the conversation routes: `/conversations/outbound` is not a conversation id.
  api.use(conversationExtraRoutes(deps));
  api.use(conversationRoutes(deps));
  api.use(sharingRoutes(deps));
  api.use(attachmentRoutes(deps));
  api.use(adminRoutes(deps));
  api.use(linkRoutes(deps));
  api.use(cannedReplyRoutes(deps));
  api.use(reportRoutes(deps));
  api.use(emergencyContactRoutes(deps));
  api.use(docsRoutes(deps));
  app.use('/api', api);
  return app;
}

/** Adds the final handlers: a JSON 404 for unknown API paths and the error mapper. Call after every mount. */
export function finishApp(app: Express, log: Logger): void {
  app.use('/api', (req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `no route ${req.method} ${req.originalUrl}` } });
  });
  app.use(errorHandler(log));
}
