/**
 * Embedded mode: `npm start` with neither DATABASE_URL nor REDIS_URL runs on
 * PGlite and BullMQ's PostgreSQL backend. Runs the real entry point as a
 * child process, as a newcomer would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationView, MessageView } from '../../src/realtime/events.ts';
import { api, connectAgent, connectCitizen, login, request } from '../support/gateway.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

describe('embedded mode', () => {
  let child: ChildProcess;
  let dataDir: string;
  let output = '';
  let url = '';
  let password = '';

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'lifeline-embedded-'));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !['DATABASE_URL', 'REDIS_URL', 'ADMIN_PASSWORD', 'PORT'].includes(k)) env[k] = v;
    }
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const banner = await waitFor(
      'the start-up banner with the console URL and admin password',
      () => {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${output}`);
        const m = /Agent console:\s+(http:\S+)\/console[\s\S]*created with password\s+(\S+)/.exec(output);
        return m ? { url: m[1]!, password: m[2]! } : undefined;
      },
      110_000,
      100,
    );
    url = banner.url;
    password = banner.password;
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('comes up ready with a generated admin password, and routes a web-chat message to an agent', async () => {
    expect(password.length).toBeGreaterThanOrEqual(16);
    const gw = { url };
    const ready = await api(gw, 'GET', '/readyz');
    expect(ready).toEqual({ status: 200, body: { status: 'ready', database: 'ok', queue: 'ok' } });

    const admin = await login(gw, 'admin', password);
    const created = await api(gw, 'POST', '/api/agents', {
      token: admin,
      body: { username: 'solo', displayName: 'Solo', password: 'solo-password-123', capacity: 3 },
    });
    expect(created.status).toBe(201);
    const agent = await connectAgent(gw, await login(gw, 'solo', 'solo-password-123'));
    await request(agent, 'presence:set', { presence: 'available' });

    const citizen = await connectCitizen(gw);
    await request(citizen, 'session:start', {});
    const offered = nextEvent<ConversationView>(agent, 'conversation:offered', undefined, 20_000);
    const sent = await request<{ conversationId: string }>(citizen, 'message:send', { clientId: randomUUID(), text: 'embedded hello' });
    expect((await offered).id).toBe(sent.conversationId);

    await request(agent, 'conversation:accept', { conversationId: sent.conversationId });
    const opened = await request<{ conversation: ConversationView }>(agent, 'conversation:open', { conversationId: sent.conversationId });
    expect(opened.conversation.status).toBe('active');
    const second = nextEvent<MessageView>(agent, 'message:new', (m) => m.body === 'second message', 20_000);
    await request(citizen, 'message:send', { clientId: randomUUID(), text: 'second message' });
    expect((await second).direction).toBe('inbound');
    citizen.disconnect();
    agent.disconnect();
  });
});
