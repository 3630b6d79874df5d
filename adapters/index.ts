/**
 * The adapter registry: every channel adapter, listed explicitly. Nothing
 * registers itself on import; main.ts wires what this returns.
 */
import { createEmailAdapter } from './email/index.ts';
import { createSlackAdapter } from './slack/index.ts';
import { createSmppAdapter } from './smpp/index.ts';
import { createTwilioAdapter } from './twilio/index.ts';
import type { ChannelAdapter } from './types.ts';
import { createWebchatAdapter } from './webchat/index.ts';

export function createAdapters(): ChannelAdapter[] {
  return [createWebchatAdapter(), createSmppAdapter(), createEmailAdapter(), createSlackAdapter(), createTwilioAdapter()];
}
