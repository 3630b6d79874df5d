/**
 * A strict RFC 4180 reader for tests: records end with CRLF, a quoted field
 * may hold commas, quotes (doubled) and line breaks, and anything else (a
 * bare quote inside an unquoted field, a lone CR or LF, text after a closing
 * quote) is an error, so a test fails on output a spreadsheet would misread.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  const fail = (why: string) => {
    throw new Error(`CSV: ${why} at offset ${i}`);
  };
  if (text.length === 0) return records;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) fail('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') fail('quote inside an unquoted field');
        field += text[i++];
      }
    }
    record.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') {
      i += 2;
      records.push(record);
      record = [];
      if (i >= text.length) return records;
      continue;
    }
    if (i >= text.length) fail('last record without CRLF');
    fail(`unexpected ${JSON.stringify(text[i])}`);
  }
}

/** Records as objects keyed by the header row; every record must have the header's width. */
export function csvObjects(text: string): Array<Record<string, string>> {
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new Error('CSV: no header row');
  return rows.map((row, n) => {
    if (row.length !== header.length) throw new Error(`CSV: record ${n + 1} has ${row.length} fields, the header ${header.length}`);
    return Object.fromEntries(header.map((h, k) => [h, row[k] as string]));
  });
}
