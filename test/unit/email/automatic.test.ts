import { describe, expect, it } from 'vitest';
import { classifyAutomatic, type AutomaticSignals } from '../../../adapters/email/automatic.ts';

function signals(input: { headers?: Record<string, string>; from?: string; returnPath?: string; contentType?: string; reportType?: string }): AutomaticSignals {
  return {
    header: (name) => input.headers?.[name],
    from: input.from ?? 'ann@example.org',
    returnPath: input.returnPath,
    contentType: input.contentType ?? 'text/plain',
    reportType: input.reportType,
  };
}

describe('classifyAutomatic', () => {
  it.each<[string, Parameters<typeof signals>[0], 'auto-reply' | 'bounce' | null]>([
    ['a person', { returnPath: 'ann@example.org' }, null],
    ['Auto-Submitted: no', { headers: { 'auto-submitted': 'no' } }, null],
    ['Auto-Submitted: No (comment)', { headers: { 'auto-submitted': 'No (sent by a person)' } }, null],
    ['Precedence: list', { headers: { precedence: 'list' } }, null],
    ['Auto-Submitted: auto-replied', { headers: { 'auto-submitted': 'auto-replied' } }, 'auto-reply'],
    ['Auto-Submitted: auto-generated', { headers: { 'auto-submitted': 'Auto-Generated' } }, 'auto-reply'],
    ['X-Autoreply', { headers: { 'x-autoreply': 'yes' } }, 'auto-reply'],
    ['X-Autorespond', { headers: { 'x-autorespond': 'Out of office' } }, 'auto-reply'],
    ['Precedence: bulk', { headers: { precedence: 'bulk' } }, 'auto-reply'],
    ['Precedence: junk', { headers: { precedence: ' JUNK ' } }, 'auto-reply'],
    ['Precedence: auto_reply', { headers: { precedence: 'auto_reply' } }, 'auto-reply'],
    ['a null Return-Path with auto-reply headers', { returnPath: '', headers: { 'auto-submitted': 'auto-replied' } }, 'auto-reply'],
    ['a null Return-Path alone', { returnPath: '' }, 'bounce'],
    ['multipart/report delivery-status', { contentType: 'multipart/report', reportType: 'delivery-status' }, 'bounce'],
    ['multipart/report disposition-notification (read receipt)', { contentType: 'multipart/report', reportType: 'disposition-notification' }, 'auto-reply'],
    ['MAILER-DAEMON', { from: 'MAILER-DAEMON@mx.example.org' }, 'bounce'],
    ['postmaster', { from: 'postmaster@example.org' }, 'bounce'],
  ])('%s', (_name, input, expected) => {
    expect(classifyAutomatic(signals(input))).toBe(expected);
  });
});
