/**
 * Which agents have a console connected, across processes (the Socket.IO
 * adapter asks every node): "signed in" for bounce-backs and the callback
 * window. A node that does not answer in time leaves its sockets out; the
 * answer then falls back to this process's own sockets rather than wait.
 */
import type { ConsoleProbe } from '../store/assignments.ts';
import { rooms, type AgentNamespace } from './events.ts';

export function createConsoleProbe(ns: AgentNamespace, timeoutMs = 1000): ConsoleProbe {
  return async (agentIds) => {
    if (agentIds.length === 0) return new Set();
    const targets = agentIds.map((id) => rooms.agent(id));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const everywhere = ns
      .in(targets)
      .fetchSockets()
      .catch(() => undefined);
    try {
      const sockets = (await Promise.race([everywhere, deadline])) ?? (await ns.local.in(targets).fetchSockets());
      return new Set(sockets.map((s) => s.data.agentId).filter((id): id is string => Boolean(id)));
    } finally {
      clearTimeout(timer);
    }
  };
}
