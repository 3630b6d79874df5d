export type {
  AdapterDeps,
  ChannelAdapter,
  InboundMessage,
  IngestResult,
  OutboundMessage,
  SendResult,
} from '../src/channel.ts';
