/**
 * The `/agent` namespace: authenticated by session token in the handshake;
 * every event goes through the console service, which checks access.
 */
import type { z } from 'zod';
import { sessionKey, type Auth } from '../auth/sessions.ts';
import type { ConsoleService } from '../console/service.ts';
import { conversationRef, inviteBody, noteBody, presenceBody, replyBody, resolveBody, transferBody } from '../http/schemas.ts';
import { parse } from '../http/validate.ts';
import type { Logger } from '../log.ts';
import { roleAtLeast } from '../domain/types.ts';
import { AuthenticationError } from '../errors.ts';
import { answer } from './ack.ts';
import { rooms, type AgentNamespace } from './events.ts';
import { z as zod } from 'zod';

const since = conversationRef.extend({ afterId: zod.number().int().min(0) });
const typingInput = conversationRef.extend({ typing: zod.boolean(), note: zod.boolean().optional() });
const inviteInput = conversationRef.merge(inviteBody);
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface AgentNamespaceDeps {
  auth: Auth;
  console: ConsoleService;
  log: Logger;
  maxMessageChars: number;
  /** How long an agent may be without a connected console before being set offline. */
  disconnectGraceMs: number;
}

export function attachAgentNamespace(ns: AgentNamespace, deps: AgentNamespaceDeps) {
  const log = deps.log.child({ component: 'agent-socket' });
  const onError = (err: unknown) => log.error({ err }, 'agent socket handler failed');
  const reply = replyBody(deps.maxMessageChars);
  const note = noteBody(deps.maxMessageChars);
  const transfer = transferBody(deps.maxMessageChars);
  /** Tells everyone in a conversation who is there now (this console just came in), with the list as it is after. */
  const withPresence = async <T extends { conversation: { id: string }; participants: unknown }>(detail: T): Promise<T> => {
    const participants = await deps.console.sharing.participants(detail.conversation.id);
    ns.to([rooms.conversation(detail.conversation.id), rooms.supervisors]).emit('conversation:participants', { conversationId: detail.conversation.id, participants });
    return { ...detail, participants };
  };

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
    // Re-check the session on every event: an expired or revoked token stops working, and the
    // console is disconnected (after this event's error reply) so it stops receiving pushes too.
    const actor = async () => {
      try {
        return await deps.auth.authenticate(token);
      } catch (err) {
        if (err instanceof AuthenticationError) setImmediate(() => socket.disconnect(true));
        throw err;
      }
    };
    void socket.join(rooms.agent(socket.data.agentId));
    void socket.join(rooms.session(sessionKey(token)));
    // A console whose session expires while it sits idle is disconnected then, not at its next event.
    let expiry: NodeJS.Timeout | undefined;
    const watchExpiry = (at: Date | undefined) => {
      if (!at || !socket.connected) return;
      // setTimeout holds at most ~24.8 days: a longer session is looked at again then.
      expiry = setTimeout(() => void actor().then((a) => watchExpiry(a.sessionExpiresAt), () => undefined), Math.min(MAX_TIMER_MS, Math.max(0, at.getTime() - Date.now()) + 10));
      expiry.unref();
    };
    void actor().then((a) => watchExpiry(a.sessionExpiresAt), () => undefined);
    if (roleAtLeast(socket.data.role, 'supervisor')) void socket.join(rooms.supervisors);

    const on = <S extends z.ZodType, T>(schema: S, run: (input: z.infer<S>) => Promise<T>) =>
      (input: unknown, ack: unknown) => answer(ack, async () => run(parse(schema, input)), onError);

    socket.on('presence:set', on(presenceBody, async (i) => deps.console.setPresence(await actor(), i.presence)));
    socket.on('conversation:list', on(zod.object({}), async () => deps.console.listConversations(await actor())));
    socket.on(
      'conversation:open',
      on(conversationRef, async (i) => {
        const result = await deps.console.getConversation(await actor(), i.conversationId);
        await socket.join(rooms.conversation(i.conversationId));
        return withPresence(result);
      }),
    );
    // Shared conversations: joining puts this console in the conversation's room like opening it.
    socket.on(
      'conversation:join',
      on(conversationRef, async (i) => {
        const me = await actor();
        await deps.console.sharing.join(me, i.conversationId);
        const result = await deps.console.getConversation(me, i.conversationId);
        await socket.join(rooms.conversation(i.conversationId));
        return withPresence(result);
      }),
    );
    socket.on('conversation:leave', on(conversationRef, async (i) => deps.console.sharing.leave(await actor(), i.conversationId)));
    socket.on('conversation:invite', on(inviteInput, async (i) => deps.console.sharing.invite(await actor(), i.conversationId, i.agentId)));
    socket.on('conversation:transfer', on(conversationRef.merge(transfer), async (i) => deps.console.sharing.transfer(await actor(), i)));
    socket.on('conversation:takeover', on(conversationRef, async (i) => deps.console.sharing.takeOver(await actor(), i.conversationId)));
    socket.on('note:add', on(conversationRef.merge(note), async (i) => deps.console.sharing.addNote(await actor(), i)));
    socket.on('notice:send', on(conversationRef.merge(note), async (i) => deps.console.sharing.sendNotice(await actor(), i)));
    socket.on('directory:list', on(zod.object({}), async () => deps.console.sharing.directory(await actor())));
    socket.on('conversation:accept', on(conversationRef, async (i) => deps.console.accept(await actor(), i.conversationId)));
    socket.on('conversation:flag-emergency', on(conversationRef, async (i) => deps.console.flagEmergency(await actor(), i.conversationId)));
    socket.on(
      'conversation:resolve',
      on(conversationRef.merge(resolveBody), async (i) => deps.console.resolve(await actor(), i.conversationId, i.resolution)),
    );
    socket.on(
      'message:send',
      on(conversationRef.merge(reply), async (i) => deps.console.reply(await actor(), i)),
    );
    socket.on('messages:since', on(since, async (i) => deps.console.messagesSince(await actor(), i.conversationId, i.afterId)));
    let openRooms: string[] = [];
    socket.on('disconnecting', () => {
      openRooms = [...socket.rooms].filter((room) => room.startsWith(rooms.conversation('')));
    });
    socket.on('disconnect', () => {
      clearTimeout(expiry);
      const { agentId, role, displayName } = socket.data;
      // Whoever shares these conversations sees this console go.
      for (const room of openRooms) {
        deps.console.sharing.publishParticipants(room.slice(rooms.conversation('').length)).catch(onError);
      }
      // A closed console must not keep receiving offers: once no console of the agent's is left
      // (on any process), the agent goes offline and their unaccepted offers return to the queue.
      setTimeout(() => {
        void (async () => {
          const left = await ns.in(rooms.agent(agentId)).fetchSockets();
          if (left.length > 0) return;
          await deps.console.setPresence({ agentId, role, displayName, username: '' }, 'offline');
          log.info({ agentId }, 'agent set offline: no console connected');
        })().catch(onError);
      }, deps.disconnectGraceMs).unref();
    });
    socket.on('typing', (input: unknown) => {
      void answer(undefined, async () => {
        const i = parse(typingInput, input);
        await deps.console.typing(await actor(), i.conversationId, i.typing, i.note ?? false);
      }, onError);
    });
  });
}
