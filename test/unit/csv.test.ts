/**
 * The CSV writer: RFC 4180 quoting, spreadsheet formula neutralising, and a
 * round trip through the strict reader of test/support/csv.ts.
 */
import { describe, expect, it } from 'vitest';
import { csvCell, csvRow } from '../../src/http/csv.ts';
import { parseCsv } from '../support/csv.ts';

describe('csvCell', () => {
  it.each([
    ['plain', 'plain'],
    ['', ''],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\r\nlines', '"two\r\nlines"'],
    ['lf\nonly', '"lf\nonly"'],
    ['=1+1', "'=1+1"],
    ['+15551234', "'+15551234"],
    ['-2', "'-2"],
    ['@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['\tindent', "'\tindent"],
    ['=HYPERLINK("http://x","y")', '"\'=HYPERLINK(""http://x"",""y"")"'],
    ['a=b', 'a=b'],
  ])('writes %j as %j', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it('writes empty for null and undefined, numbers and booleans as they are, dates in ISO 8601', () => {
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(12.5)).toBe('12.5');
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(Number.NaN)).toBe('');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(false)).toBe('false');
    expect(csvCell(new Date('2025-03-01T10:00:00Z'))).toBe('2025-03-01T10:00:00.000Z');
  });
});

describe('csvRow', () => {
  it('ends each record with CRLF and reads back field for field', () => {
    const values = ['id', 'a,b', 'say "hi"', 'multi\r\nline', '=cmd|calc', null, 7, true];
    const text = csvRow(['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8']) + csvRow(values);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(parseCsv(text)).toEqual([
      ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8'],
      ['id', 'a,b', 'say "hi"', 'multi\r\nline', "'=cmd|calc", '', '7', 'true'],
    ]);
  });

  it('the reader refuses what RFC 4180 does not allow', () => {
    expect(() => parseCsv('a"b\r\n')).toThrow(/quote inside/);
    expect(() => parseCsv('"open\r\n')).toThrow(/unterminated/);
    expect(() => parseCsv('a,b\n')).toThrow(/unexpected/);
    expect(() => parseCsv('a,b')).toThrow(/without CRLF/);
  });
});
