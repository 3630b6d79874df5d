/**
 * Capacity weights per channel: how many load units a conversation holds on
 * its agent. A voice call takes a whole agent (3 of a default capacity of 3),
 * a text one unit, so an agent handles one call or at most three texts.
 */
import { CHANNELS, type Channel } from '../domain/types.ts';

export type ChannelWeights = Readonly<Record<Channel, number>>;

export const DEFAULT_CHANNEL_WEIGHTS: ChannelWeights = Object.freeze({ sms: 1, email: 1, webchat: 1, slack: 1, voice: 3, twilio: 1 });

/** A bad `CHANNEL_WEIGHTS` entry, with the text that names it. */
export class ChannelWeightsError extends Error {}

/**
 * Parses `voice=3,sms=1` into weights; channels not named keep their
 * default. Weights are whole numbers from 1 to 50.
 * @throws ChannelWeightsError naming the first bad entry.
 */
export function parseChannelWeights(text: string | undefined): ChannelWeights {
  const weights: Record<Channel, number> = { ...DEFAULT_CHANNEL_WEIGHTS };
  if (!text?.trim()) return Object.freeze(weights);
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const match = /^([a-z]+)\s*[=:]\s*(\d+)$/.exec(entry);
    if (!match) throw new ChannelWeightsError(`"${entry}" is not channel=weight`);
    const channel = match[1] as Channel;
    if (!CHANNELS.includes(channel)) throw new ChannelWeightsError(`"${match[1]}" is not a channel (${CHANNELS.join(', ')})`);
    const weight = Number(match[2]);
    if (weight < 1 || weight > 50) throw new ChannelWeightsError(`the weight of ${channel} must be from 1 to 50`);
    weights[channel] = weight;
  }
  return Object.freeze(weights);
}

/** The load units a conversation on this channel holds. */
export function weightFor(weights: ChannelWeights, channel: Channel): number {
  return weights[channel] ?? 1;
}
