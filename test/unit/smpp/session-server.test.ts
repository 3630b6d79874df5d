/**
 * The SMSC side of SmppSession against a raw ESME on a loopback socket:
 * requests before a bind, bind accepted or refused, submit_sm answered with
 * the handler's message_id and follow-up, one sender's texts in order while
 * another sender's overtake them.
 */
import net, { type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import smpp, { PDU, type CommandName, type PduOptions } from 'smpp';
import { afterEach, describe, expect, it } from 'vitest';
import { SmppSession, type MessageAnswer, type SessionOptions } from '../../../adapters/smpp/session.ts';
import { PduFramer, type MessagePdu } from '../../../adapters/smpp/wire.ts';
import { waitFor } from '../../support/wait.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function smscSession(options: Partial<SessionOptions>) {
  let session: SmppSession | undefined;
  const server = net.createServer((socket) => {
    session = new SmppSession(socket, {
      side: 'smsc',
      window: 10,
      throughput: 1000,
      enquireLinkMs: 60_000,
      responseTimeoutMs: 5000,
      log: pino({ level: 'silent' }),
      counters: {},
      onMessage: async () => smpp.ESME_ROK,
      onBind: (pdu) => ({ status: pdu.password === 'secret' ? smpp.ESME_ROK : smpp.ESME_RBINDFAIL, systemId: 'TEST' }),
      ...options,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket: Socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const received: PDU[] = [];
  let closed = false;
  const framer = new PduFramer();
  socket.on('data', (chunk: Buffer) => {
    framer.push(chunk);
    for (let f = framer.next(); f?.kind === 'pdu'; f = framer.next()) received.push(new PDU(f.bytes));
  });
  socket.on('close', () => {
    closed = true;
  });
  cleanups.push(async () => {
    socket.destroy();
    session?.destroy('test over');
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  let sequence = 0;
  const send = (command: CommandName, fields: PduOptions = {}) => {
    const n = ++sequence;
    socket.write(new PDU(command, { ...fields, sequence_number: n }).toBuffer());
    return waitFor(`answer #${n}`, () => received.find((p) => p.sequence_number === n && p.isResponse()));
  };
  return { send, received, isClosed: () => closed, session: () => session };
}

describe('SmppSession, SMSC side', () => {
  it('answers requests before a bind with ESME_RINVBNDSTS, binds with the right password, then takes submit_sm', async () => {
    const peer = await smscSession({ onMessage: async (pdu) => ({ status: 0, messageId: `id-${pdu.sourceAddr}` }) });
    expect(await peer.send('submit_sm', { source_addr: '1', short_message: Buffer.from('x') })).toMatchObject({ command_status: smpp.ESME_RINVBNDSTS });
    expect(await peer.send('query_sm', { message_id: '1' })).toMatchObject({ command_status: smpp.ESME_RINVBNDSTS });
    expect(await peer.send('enquire_link')).toMatchObject({ command: 'enquire_link_resp', command_status: 0 });
    expect(await peer.send('bind_transceiver', { system_id: 'a', password: 'secret' })).toMatchObject({ command_status: 0, system_id: 'TEST' });
    expect(peer.session()?.boundAs).toBe('transceiver');
    expect(await peer.send('bind_transceiver', { system_id: 'a', password: 'secret' })).toMatchObject({ command_status: smpp.ESME_RALYBND });
    expect(await peer.send('submit_sm', { source_addr: '155', short_message: Buffer.from('x') })).toMatchObject({ command: 'submit_sm_resp', command_status: 0, message_id: 'id-155' });
    // deliver_sm is the SMSC's own command: not taken from an ESME.
    expect(await peer.send('deliver_sm', { source_addr: '1', short_message: Buffer.from('x') })).toMatchObject({ command_status: smpp.ESME_RINVCMDID });
  });

  it('refuses a wrong password with ESME_RBINDFAIL and closes', async () => {
    const peer = await smscSession({});
    expect(await peer.send('bind_receiver', { system_id: 'a', password: 'nope' })).toMatchObject({ command: 'bind_receiver_resp', command_status: smpp.ESME_RBINDFAIL });
    await waitFor('the close', () => peer.isClosed());
  });

  it('runs afterAnswer once the response is written; one sender in order, another overtaking', async () => {
    const order: string[] = [];
    let releaseSlow: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    const onMessage = async (pdu: MessagePdu): Promise<MessageAnswer> => {
      const text = pdu.shortMessage.toString('latin1');
      if (text === 'a1') await slow;
      order.push(text);
      return { status: 0, messageId: text, afterAnswer: () => order.push(`after ${text}`) };
    };
    const peer = await smscSession({ onMessage });
    await peer.send('bind_transmitter', { system_id: 'a', password: 'secret' });
    const a1 = peer.send('submit_sm', { source_addr: 'A', short_message: Buffer.from('a1') });
    const a2 = peer.send('submit_sm', { source_addr: 'A', short_message: Buffer.from('a2') });
    expect(await peer.send('submit_sm', { source_addr: 'B', short_message: Buffer.from('b1') })).toMatchObject({ message_id: 'b1' });
    expect(order).toEqual(['b1', 'after b1']);
    releaseSlow();
    expect((await a1).message_id).toBe('a1');
    expect((await a2).message_id).toBe('a2');
    expect(order).toEqual(['b1', 'after b1', 'a1', 'after a1', 'a2', 'after a2']);
  });
});
