/**
 * Small DOM helpers for the pages. Data (message bodies, names) only ever
 * reaches the page through `textContent`: nothing here parses HTML.
 */

/** Options for `el`: class names, text content, attributes and children. */
export interface ElementSpec {
  class?: string;
  text?: string;
  attrs?: Record<string, string>;
  testid?: string;
}

/** Creates an element; `text` is set with textContent, never parsed as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  spec: ElementSpec = {},
  children: ReadonlyArray<Node | string> = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (spec.class) node.className = spec.class;
  if (spec.text !== undefined) node.textContent = spec.text;
  if (spec.testid) node.dataset.testid = spec.testid;
  for (const [name, value] of Object.entries(spec.attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

/** The element with this id, checked to be of the expected type; throws when the page lacks it. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`page is missing #${id}`);
  return node;
}

/** Elapsed time as m:ss (or h:mm:ss past an hour); negative clock skew shows as 0:00. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A byte count for people: 512 B, 8.4 KB, 12 MB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 9.95 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** A timestamp as local hours and minutes. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** A random client message id (the idempotency key of a send). */
export function clientId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // randomUUID needs a secure context; plain http on a LAN address is not one.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** True when Enter (without Shift, outside an IME composition) should send. */
export function isSendKey(event: KeyboardEvent): boolean {
  return event.key === 'Enter' && !event.shiftKey && !event.isComposing;
}

/** A status line: one element whose text and kind (info/error) change. */
export interface StatusLine {
  info(text: string): void;
  error(text: string): void;
  clear(): void;
}

export function statusLine(node: HTMLElement): StatusLine {
  const set = (kind: 'info' | 'error' | '', text: string) => {
    node.textContent = text;
    node.dataset.kind = kind;
    node.hidden = text === '';
  };
  return {
    info: (text) => set('info', text),
    error: (text) => set('error', text),
    clear: () => set('', ''),
  };
}

/**
 * Emits `typing: true` while someone types (again every few seconds, so the
 * other side's safety timeout does not hide it) and `false` once idle.
 */
export function typingEmitter(emit: (typing: boolean) => void, idleMs = 2500, refreshMs = 3000) {
  let typing = false;
  let lastTrue = 0;
  let idle: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    if (idle) clearTimeout(idle);
    idle = undefined;
    if (typing) emit(false);
    typing = false;
  };
  return {
    /** Call on every keystroke. */
    poke() {
      const now = Date.now();
      if (!typing || now - lastTrue >= refreshMs) {
        typing = true;
        lastTrue = now;
        emit(true);
      }
      if (idle) clearTimeout(idle);
      idle = setTimeout(stop, idleMs);
    },
    /** Call after sending or when the box loses focus. */
    stop,
  };
}
