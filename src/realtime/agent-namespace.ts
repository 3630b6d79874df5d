/**
 * The `/agent` namespace: authenticated by session token in the handshake;
 * every event goes through the console service, which checks access.
 */
import type { z } from 'zod';
import type { Auth } from '../auth/sessions.ts';
import type { ConsoleService } from '../console/service.ts';
import { AppError } from '../errors.ts';
import { conversationRef, presenceBody, replyBody, resolveBody } from '../http/schemas.ts';
import { parse } from '../http/validate.ts';
import type { Logger } from '../log.ts';
import { roleAtLeast } from '../domain/types.ts';
import { rooms, type Ack, type AgentNamespace, type Reply } from './events.ts';
import { z as zod } from 'zod';

const since = conversationRef.extend({ afterId: zod.number().int().min(0) });
const typingInput = conversationRef.extend({ typing: zod.boolean() });

/** Runs a handler and answers its ack with `{ ok, data }` or `{ ok: false, error }`. */
async function answer<T>(ack: unknown, log: Logger, run: () => Promise<T>): Promise<void> {
  const reply = (typeof ack === 'function' ? ack : () => undefined) as Ack<T>;
  try {
    reply({ ok: true, data: await run() });
  } catch (err) {
    if (err instanceof AppError && err.status < 500) {
      reply({ ok: false, error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
      return;
    }
    log.error({ err }, 'agent socket handler failed');
    reply({ ok: false, error: { code: 'internal', message: 'internal error' } } satisfies Reply<T>);
  }
}

export function attachAgentNamespace(ns: AgentNamespace, deps: { auth: Auth; console: ConsoleService; log: Logger; maxMessageChars: number }) {
  const log = deps.log.child({ component: 'agent-socket' });
  const reply = replyBody(deps.maxMessageChars);

  ns.use(async (socket, next) => {
    try {
      const token = (socket.handshake.auth as { token?: unknown }).token;
      const actor = await deps.auth.authenticate(typeof token === 'string' ? token : undefined);
      socket.data = { agentId: actor.agentId, role: actor.role, displayName: actor.displayName };
      next();
    } catch (err) {
      next(err instanceof Error ? err : new Error('unauthenticated'));
    }
  });

  ns.on('connection', (socket) => {
    const token = (socket.handshake.auth as { token: string }).token;
    // Re-check the session on every event: a revoked or expired token stops working at once.
    const actor = () => deps.auth.authenticate(token);
    void socket.join(rooms.agent(socket.data.agentId));
    if (roleAtLeast(socket.data.role, 'supervisor')) void socket.join(rooms.supervisors);

    const on = <S extends z.ZodType, T>(schema: S, run: (input: z.infer<S>) => Promise<T>) =>
      (input: unknown, ack: unknown) => answer(ack, log, async () => run(parse(schema, input)));

    socket.on('presence:set', on(presenceBody, async (i) => deps.console.setPresence(await actor(), i.presence)));
    socket.on('conversation:list', on(zod.object({}), async () => deps.console.listConversations(await actor())));
    socket.on(
      'conversation:open',
      on(conversationRef, async (i) => {
        const result = await deps.console.getConversation(await actor(), i.conversationId);
        await socket.join(rooms.conversation(i.conversationId));
        return result;
      }),
    );
    socket.on('conversation:accept', on(conversationRef, async (i) => deps.console.accept(await actor(), i.conversationId)));
    socket.on(
      'conversation:resolve',
      on(conversationRef.merge(resolveBody), async (i) => deps.console.resolve(await actor(), i.conversationId, i.resolution)),
    );
    socket.on(
      'message:send',
      on(conversationRef.merge(reply), async (i) => deps.console.reply(await actor(), i)),
    );
    socket.on('messages:since', on(since, async (i) => deps.console.messagesSince(await actor(), i.conversationId, i.afterId)));
    socket.on('typing', (input: unknown) => {
      void answer(undefined, log, async () => {
        const i = parse(typingInput, input);
        await deps.console.typing(await actor(), i.conversationId, i.typing);
      });
    });
  });
}
