/**
 * The SMPP session wrapper against a raw TCP peer on a loopback port: the
 * window, response timeouts and the dead-peer rule, answers to the peer's
 * requests, and the flow-control primitives on a fake clock.
 */
import net, { type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import smpp, { PDU } from 'smpp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FlowClosedError, TokenBucket, Window } from '../../../adapters/smpp/flow.ts';
import { SmppRequestError, SmppSession, type Counters } from '../../../adapters/smpp/session.ts';
import { PduFramer } from '../../../adapters/smpp/wire.ts';
import { waitFor } from '../../support/wait.ts';

/** A raw peer: records every PDU it reads; the test answers by hand. */
async function peerPair(options: Partial<ConstructorParameters<typeof SmppSession>[1]> = {}) {
  const received: PDU[] = [];
  let peer: Socket | undefined;
  const server = net.createServer((socket) => {
    peer = socket;
    const framer = new PduFramer();
    socket.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      for (let f = framer.next(); f?.kind === 'pdu'; f = framer.next()) received.push(new PDU(f.bytes));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const counters: Counters = {};
  const session = new SmppSession(socket, {
    window: 2,
    throughput: 1000,
    enquireLinkMs: 60_000,
    responseTimeoutMs: 5000,
    log: pino({ level: 'silent' }),
    counters,
    onMessage: async () => smpp.ESME_ROK,
    ...options,
  });
  const connected = await waitFor('the peer connection', () => peer);
  const close = async () => {
    session.destroy('test over');
    connected.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { session, received, peer: connected, counters, close };
}

describe('SmppSession', () => {
  it('keeps at most `window` requests outstanding; control PDUs pass the window', async () => {
    const { session, received, peer, close } = await peerPair({ window: 2 });
    const submits = Array.from({ length: 5 }, (_, i) => session.request('submit_sm', { destination_addr: `${i}`, short_message: Buffer.from('x') }));
    const probe = session.request('enquire_link', {}, { control: true });
    // TCP keeps order: by the time the enquire_link arrives, every PDU written before it has.
    await waitFor('the enquire_link', () => received.some((p) => p.command === 'enquire_link'));
    expect(received.filter((p) => p.command === 'submit_sm')).toHaveLength(2);
    expect(session.outstanding).toBe(3);
    for (const p of received.filter((r) => r.command !== 'submit_sm')) peer.write(p.response().toBuffer());
    await probe;
    // Each answer lets one more through.
    for (let answered = 0; answered < 5; answered++) {
      const next = await waitFor('a submit', () => received.filter((p) => p.command === 'submit_sm')[answered]);
      peer.write(next.response({ message_id: `id${answered}` }).toBuffer());
    }
    const ids = (await Promise.all(submits)).map((p) => p.message_id);
    expect(ids).toEqual(['id0', 'id1', 'id2', 'id3', 'id4']);
    await close();
  });

  it('fails a request after the response timeout (retryable) and closes after three in a row', async () => {
    const { session, close } = await peerPair({ responseTimeoutMs: 100 });
    const first = session.request('submit_sm', {}).catch((err: unknown) => err);
    const err = await first;
    expect(err).toBeInstanceOf(SmppRequestError);
    expect(err).toMatchObject({ reason: 'timeout', retryable: true });
    expect(session.isOpen).toBe(true);
    await Promise.allSettled([session.request('submit_sm', {}), session.request('submit_sm', {})]);
    expect(await session.closed).toBe('3 responses timed out');
    await close();
  });

  it('answers enquire_link and an unsupported request, answers unbind and closes', async () => {
    const { session, received, peer, counters, close } = await peerPair();
    peer.write(new PDU('enquire_link', { sequence_number: 11 }).toBuffer());
    peer.write(new PDU('query_sm', { sequence_number: 12, message_id: 'x' }).toBuffer());
    peer.write(new PDU('unbind', { sequence_number: 13 }).toBuffer());
    expect(await session.closed).toBe('unbound by peer');
    expect(received.map((p) => [p.command, p.sequence_number, p.command_status])).toEqual([
      ['enquire_link_resp', 11, 0],
      ['query_sm_resp', 12, smpp.ESME_RINVCMDID],
      ['unbind_resp', 13, 0],
    ]);
    expect(counters).toMatchObject({ pdusIn: 3, pdusOut: 3 });
    await close();
  });

  it('answers a message PDU with the status its handler resolves to, and ESME_RX_T_APPN when it throws', async () => {
    let fail = false;
    const { received, peer, close } = await peerPair({
      onMessage: async () => {
        if (fail) throw new Error('database down');
        return smpp.ESME_ROK;
      },
    });
    peer.write(new PDU('deliver_sm', { sequence_number: 21, short_message: Buffer.from('a') }).toBuffer());
    await waitFor('the first answer', () => received.length === 1);
    fail = true;
    peer.write(new PDU('deliver_sm', { sequence_number: 22, short_message: Buffer.from('b') }).toBuffer());
    await waitFor('the second answer', () => received.length === 2);
    expect(received.map((p) => [p.command, p.sequence_number, p.command_status])).toEqual([
      ['deliver_sm_resp', 21, 0],
      ['deliver_sm_resp', 22, smpp.ESME_RX_T_APPN],
    ]);
    await close();
  });
});

describe('TokenBucket and Window', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('paces takes to the rate after the burst, without polling', async () => {
    vi.useFakeTimers();
    const bucket = new TokenBucket(10, 2, () => Date.now());
    const taken: number[] = [];
    const start = Date.now();
    const all = Array.from({ length: 5 }, () => bucket.take().then(() => taken.push(Date.now() - start)));
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(all);
    expect(taken).toEqual([0, 0, 100, 200, 300]);
    expect(vi.getTimerCount()).toBe(0);
    const waiting = bucket.take().then(() => bucket.take());
    bucket.close();
    await expect(waiting).rejects.toBeInstanceOf(FlowClosedError);
  });

  it('hands a released slot to the next waiter in order', async () => {
    const window = new Window(1);
    await window.acquire();
    const order: number[] = [];
    const a = window.acquire().then(() => order.push(1));
    const b = window.acquire().then(() => order.push(2));
    window.release();
    await a;
    window.release();
    await b;
    expect(order).toEqual([1, 2]);
    expect(window.inUse).toBe(1);
    const c = window.acquire();
    window.close();
    await expect(c).rejects.toBeInstanceOf(FlowClosedError);
  });
});
