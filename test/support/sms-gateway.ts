/**
 * A gateway with the SMS (SMPP) and web-chat adapters, an administrator token
 * and an available agent's console: the common set-up of the SMPP tests.
 */
import { createSmppAdapter } from '../../adapters/smpp/index.ts';
import { createWebchatAdapter } from '../../adapters/webchat/index.ts';
import type { MessageView } from '../../src/realtime/events.ts';
import { ADMIN_PASSWORD, connectAgent, createAgents, login, request, startTestGateway, type AgentSocket, type TestGateway } from './gateway.ts';

export interface SmsGateway {
  gw: TestGateway;
  admin: string;
  agent: AgentSocket;
  /** Opens a conversation in the agent's console (so its pushes reach the agent) and returns its messages. */
  messagesOf(conversationId: string): Promise<MessageView[]>;
  /** Inbound rows stored for a conversation. */
  storedInbound(conversationId: string): Promise<number>;
  close(): Promise<void>;
}

export async function startSmsGateway(): Promise<SmsGateway> {
  const gw = await startTestGateway(
    { LINK_LEASE_MS: '900', OUTBOUND_ATTEMPTS: '12', OUTBOUND_BACKOFF_MS: '50' },
    { adapters: [createWebchatAdapter(), createSmppAdapter({ partsCheckIntervalMs: 100 })] },
  );
  const admin = await login(gw, 'admin', ADMIN_PASSWORD);
  const [sam] = await createAgents(gw, [{ username: 'sam', capacity: 50 }]);
  const agent = await connectAgent(gw, sam!.token);
  await request(agent, 'presence:set', { presence: 'available' });
  return {
    gw,
    admin,
    agent,
    async messagesOf(conversationId) {
      return (await request<{ messages: MessageView[] }>(agent, 'conversation:open', { conversationId })).messages;
    },
    async storedInbound(conversationId) {
      const [row] = await gw.store.sql<Array<{ n: number }>>`select count(*)::int as n from messages where conversation_id = ${conversationId} and direction = 'inbound'`;
      return row?.n ?? -1;
    },
    async close() {
      agent.disconnect();
      await gw.destroy();
    },
  };
}
