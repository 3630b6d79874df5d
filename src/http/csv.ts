/**
 * CSV as RFC 4180 writes it (comma-separated, CRLF line ends, a field holding
 * a comma, a quote or a line break quoted with its quotes doubled), made safe
 * to open in a spreadsheet: a text cell that starts like a formula (= + - @,
 * or a tab or carriage return that some spreadsheets skip) is prefixed with a
 * single quote so it is shown, never evaluated (OWASP "CSV injection").
 */

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One field. null and undefined are empty; numbers and booleans are written as they are. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let text = value instanceof Date ? value.toISOString() : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF included. */
export function csvRow(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
