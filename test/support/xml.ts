/**
 * A small strict XML reader for checking TwiML answers: elements,
 * attributes, text, the five predefined entities and character references.
 * Anything malformed (a stray `<` or `&`, a mismatched or unclosed tag, a
 * repeated attribute, content after the root) throws, naming the offset.
 */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: Array<XmlElement | string>;
}

const NAME = /^[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?/;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function parseXml(input: string): XmlElement {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`malformed XML at offset ${at}: ${what}`);
  };
  const skipSpace = () => {
    while (at < input.length && /\s/.test(input[at] as string)) at++;
  };
  const decode = (raw: string): string =>
    raw.replace(/&([^;]*);|&/g, (match, ref: string | undefined) => {
      if (ref === undefined) return fail('a bare & (not an entity)');
      if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
      if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
      return ENTITIES[ref] ?? fail(`unknown entity ${match}`);
    });
  const name = (): string => {
    const m = NAME.exec(input.slice(at));
    if (!m) return fail('expected a name');
    at += m[0].length;
    return m[0];
  };

  const element = (): XmlElement => {
    if (input[at] !== '<') fail('expected <');
    at++;
    const node: XmlElement = { name: name(), attributes: {}, children: [] };
    for (;;) {
      skipSpace();
      if (input.startsWith('/>', at)) {
        at += 2;
        return node;
      }
      if (input[at] === '>') {
        at++;
        break;
      }
      const attr = name();
      skipSpace();
      if (input[at] !== '=') fail(`expected = after ${attr}`);
      at++;
      skipSpace();
      const quote = input[at];
      if (quote !== '"' && quote !== "'") fail('expected a quoted attribute value');
      const end = input.indexOf(quote as string, at + 1);
      if (end < 0) fail('unterminated attribute value');
      const raw = input.slice(at + 1, end);
      if (raw.includes('<')) fail('< in an attribute value');
      if (attr in node.attributes) fail(`repeated attribute ${attr}`);
      node.attributes[attr] = decode(raw);
      at = end + 1;
    }
    for (;;) {
      if (at >= input.length) fail(`unclosed <${node.name}>`);
      if (input.startsWith('</', at)) {
        at += 2;
        const closing = name();
        if (closing !== node.name) fail(`</${closing}> closes <${node.name}>`);
        skipSpace();
        if (input[at] !== '>') fail('expected >');
        at++;
        return node;
      }
      if (input.startsWith('<!--', at)) {
        const end = input.indexOf('-->', at);
        if (end < 0) fail('unterminated comment');
        at = end + 3;
        continue;
      }
      if (input[at] === '<') {
        node.children.push(element());
        continue;
      }
      const next = input.indexOf('<', at);
      const raw = input.slice(at, next < 0 ? input.length : next);
      node.children.push(decode(raw));
      at += raw.length;
    }
  };

  if (input.startsWith('<?xml')) {
    const end = input.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration');
    at = end + 2;
  }
  skipSpace();
  const root = element();
  skipSpace();
  if (at !== input.length) fail('content after the root element');
  return root;
}

/** The element children of an element. */
export const elementsOf = (node: XmlElement): XmlElement[] => node.children.filter((c): c is XmlElement => typeof c !== 'string');

/** The text content of an element (its text children joined). */
export const textOf = (node: XmlElement): string => node.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');

/** The verbs of a TwiML document: the root must be <Response>; its child elements' names in order. */
export function twimlVerbs(xml: string): { root: XmlElement; verbs: XmlElement[] } {
  const root = parseXml(xml);
  if (root.name !== 'Response') throw new Error(`TwiML root is <${root.name}>, not <Response>`);
  return { root, verbs: elementsOf(root) };
}
