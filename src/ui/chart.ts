/**
 * Accessible bar charts from DOM APIs: an SVG drawn with createElementNS
 * (no library, no inline styles: colours come from style.css classes) and
 * beside it a list of the same values as text, which screen readers read
 * instead of the picture.
 */
import { el } from './dom.ts';

const SVG = 'http://www.w3.org/2000/svg';

/** One bar: its label, its value and how the value reads ("12", "4.5 s"). */
export interface Bar {
  label: string;
  value: number;
  text?: string;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Draws `bars` into `figure` (replacing what was there): an SVG marked
 * aria-hidden, and a list (`data-testid` `${testid}-values`) of
 * "label: value" lines for assistive technology and tests.
 */
export function drawBarChart(figure: HTMLElement, caption: string, bars: readonly Bar[], testid: string): void {
  const width = Math.max(240, bars.length * 34);
  const height = 160;
  const top = 18;
  const bottom = 22;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const slot = width / Math.max(1, bars.length);
  const picture = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart-svg', 'aria-hidden': 'true', focusable: 'false' });
  picture.append(svg('line', { x1: 0, x2: width, y1: height - bottom, y2: height - bottom, class: 'chart-axis' }));
  bars.forEach((bar, i) => {
    const h = ((height - top - bottom) * Math.max(0, bar.value)) / max;
    const x = i * slot + slot * 0.15;
    const y = height - bottom - h;
    picture.append(
      svg('rect', { x, y, width: slot * 0.7, height: h, rx: 2, class: 'chart-bar' }),
      svg('text', { x: x + slot * 0.35, y: y - 4, 'text-anchor': 'middle', class: 'chart-value' }, bar.text ?? String(bar.value)),
      svg('text', { x: x + slot * 0.35, y: height - 6, 'text-anchor': 'middle', class: 'chart-label' }, bar.label),
    );
  });
  const values = el(
    'ul',
    { class: 'visually-hidden', testid: `${testid}-values` },
    bars.map((b) => el('li', { text: `${b.label}: ${b.text ?? String(b.value)}` })),
  );
  figure.replaceChildren(el('figcaption', { text: caption }), picture, values);
  figure.dataset.testid = testid;
}
