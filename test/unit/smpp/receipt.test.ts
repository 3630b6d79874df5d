import { describe, expect, it } from 'vitest';
import { isDeliveryReceipt, matchingMessageIds, parseDeliveryReceipt } from '../../../adapters/smpp/receipt.ts';

const receiptText = (stat: string, err = '000', id = '0123456789'): string =>
  `id:${id} sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:${stat} err:${err} text:Help is on the way`;

describe('parseDeliveryReceipt: text form', () => {
  it('reads every field of a delivered receipt', () => {
    expect(parseDeliveryReceipt({ esmClass: 0x04, text: receiptText('DELIVRD') })).toEqual({
      messageId: '0123456789',
      status: 'delivered',
      final: true,
      state: 'DELIVRD',
      submitDate: '2401011200',
      doneDate: '2401011201',
    });
  });

  it.each([
    ['DELIVRD', 'delivered', true],
    ['UNDELIV', 'failed', true],
    ['EXPIRED', 'failed', true],
    ['REJECTD', 'failed', true],
    ['DELETED', 'failed', true],
    ['ACCEPTD', 'sent', false],
    ['ENROUTE', 'sent', false],
    ['UNKNOWN', 'sent', false],
    ['delivered', 'delivered', true],
    ['FAILED', 'failed', true],
  ] as const)('stat:%s → %s', (stat, status, final) => {
    expect(parseDeliveryReceipt({ esmClass: 0x04, text: receiptText(stat) })).toMatchObject({ status, final, state: stat.toUpperCase() });
  });

  it('keeps a non-zero error code', () => {
    expect(parseDeliveryReceipt({ esmClass: 0x04, text: receiptText('UNDELIV', '069') })).toMatchObject({ status: 'failed', error: '069' });
  });

  it('reads the header only, not words quoted after text:', () => {
    const text = 'id:77 sub:001 dlvrd:000 submit date:2401011200 done date:2401011205 stat:UNDELIV err:001 text:id:99 stat:DELIVRD';
    expect(parseDeliveryReceipt({ esmClass: 0x04, text })).toMatchObject({ messageId: '77', status: 'failed', error: '001' });
  });

  it('accepts raw bytes, and an intermediate notification with UDHI set', () => {
    expect(parseDeliveryReceipt({ esmClass: 0x20 | 0x40, text: Buffer.from(receiptText('ENROUTE', '000', 'ab12'), 'latin1') })).toMatchObject({
      messageId: 'ab12',
      status: 'sent',
    });
  });

  it('tolerates capitalised keys and missing dates', () => {
    expect(parseDeliveryReceipt({ esmClass: 0x04, text: 'ID:5 STAT:DELIVRD ERR:0 Text:x' })).toEqual({
      messageId: '5',
      status: 'delivered',
      final: true,
      state: 'DELIVRD',
    });
  });
});

describe('parseDeliveryReceipt: TLV form', () => {
  it.each([
    [1, 'ENROUTE', 'sent'],
    [2, 'DELIVRD', 'delivered'],
    [3, 'EXPIRED', 'failed'],
    [4, 'DELETED', 'failed'],
    [5, 'UNDELIV', 'failed'],
    [6, 'ACCEPTD', 'sent'],
    [7, 'UNKNOWN', 'sent'],
    [8, 'REJECTD', 'failed'],
  ])('message_state %i → %s (%s)', (messageState, state, status) => {
    expect(parseDeliveryReceipt({ esmClass: 0x04, receiptedMessageId: 'A1B2C3', messageState })).toMatchObject({ messageId: 'A1B2C3', state, status });
  });

  it('prefers the TLVs over the text', () => {
    const receipt = parseDeliveryReceipt({ esmClass: 0x04, text: receiptText('DELIVRD', '000', '111'), receiptedMessageId: '222\u0000', messageState: 5 });
    expect(receipt).toMatchObject({ messageId: '222', status: 'failed', state: 'UNDELIV' });
  });

  it('reports network_error_code as type/code', () => {
    expect(parseDeliveryReceipt({ esmClass: 0x04, receiptedMessageId: 'x', messageState: 5, networkErrorCode: Buffer.from([3, 0x00, 0x22]) })).toMatchObject({
      error: '3/34',
    });
  });

  it('falls back to the text when message_state is out of range', () => {
    expect(parseDeliveryReceipt({ esmClass: 0x04, receiptedMessageId: 'x', messageState: 42, text: receiptText('DELIVRD') })).toMatchObject({
      status: 'delivered',
    });
  });
});

describe('not a usable receipt', () => {
  it.each([
    ['a citizen text that looks like a receipt', { esmClass: 0x00, text: receiptText('DELIVRD') }],
    ['an SME delivery acknowledgement', { esmClass: 0x08, text: receiptText('DELIVRD') }],
    ['a receipt without any id', { esmClass: 0x04, text: 'stat:DELIVRD err:000' }],
    ['a receipt with an empty id TLV and no text', { esmClass: 0x04, receiptedMessageId: '' }],
  ])('%s → undefined', (_name, fields) => {
    expect(parseDeliveryReceipt(fields)).toBeUndefined();
  });

  it.each([
    [0x00, false],
    [0x04, true],
    [0x44, true],
    [0x08, false],
    [0x10, false],
    [0x20, true],
    [0x40, false],
  ])('isDeliveryReceipt(0x%s) → %s', (esmClass, expected) => {
    expect(isDeliveryReceipt(esmClass)).toBe(expected);
  });
});

describe('matchingMessageIds', () => {
  it.each([
    ['12345', ['12345', '3039', '74565']], // all-digit ids are also valid hex
    ['0000012345', ['0000012345', '12345', '3039', '74565']],
    ['3039', ['3039', 'bdf', 'BDF', '12345']],
    ['a1b2', ['a1b2', '41394']],
    ['msg-1', ['msg-1']],
    ['0', ['0']],
  ])('%s → %j', (id, expected) => {
    expect(matchingMessageIds(id)).toEqual(expected);
  });
});
