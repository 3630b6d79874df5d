/**
 * Forms of the admin page: labelled inputs built from a list of fields, each
 * named by its path in the API body (`settings.port`), so a 400's `field`
 * finds its input and the message shows beside it (aria-invalid,
 * aria-describedby). Values are read back typed (numbers, booleans, lists).
 */
import { el } from './dom.ts';
import type { HttpResult } from './http.ts';

export type FieldKind = 'text' | 'number' | 'password' | 'email' | 'tel' | 'checkbox' | 'select' | 'textarea' | 'list' | 'checkboxes';

/** One input; `path` is where its value goes in the request body. */
export interface Field {
  path: string;
  label: string;
  kind?: FieldKind;
  options?: ReadonlyArray<{ value: string; label: string }>;
  hint?: string;
  /** Left out of the body when empty (optional settings, write-only secrets). */
  optional?: boolean;
  /** Sent as null when empty (agent e-mail and phone). */
  nullable?: boolean;
  step?: string;
}

let serial = 0;
const uid = (path: string) => `f${++serial}-${path.replace(/[^a-zA-Z0-9]/g, '-')}`;

/** Builds one field's row: label, input, hint, error slot. */
export function fieldRow(field: Field): HTMLElement {
  const id = uid(field.path);
  const kind = field.kind ?? 'text';
  const attrs: Record<string, string> = { id, 'data-field': field.path, 'data-kind': kind, name: field.path };
  let input: HTMLElement;
  if (kind === 'select') {
    input = el('select', { attrs }, (field.options ?? []).map((o) => el('option', { text: o.label, attrs: { value: o.value } })));
  } else if (kind === 'textarea') {
    input = el('textarea', { attrs: { ...attrs, rows: '3' } });
  } else if (kind === 'checkboxes') {
    input = el(
      'fieldset',
      { class: 'checkbox-set', attrs: { ...attrs, 'aria-labelledby': `${id}-legend` } },
      [
        el('legend', { text: field.label, attrs: { id: `${id}-legend` }, class: 'visually-hidden' }),
        ...(field.options ?? []).map((o) =>
          el('label', { class: 'check' }, [el('input', { attrs: { type: 'checkbox', value: o.value } }), ` ${o.label}`]),
        ),
      ],
    );
  } else {
    const type = kind === 'list' ? 'text' : kind;
    input = el('input', { attrs: { ...attrs, type, ...(kind === 'number' ? { inputmode: 'decimal', step: field.step ?? 'any' } : {}) } });
  }
  const row = el('div', { class: `field field-${kind}` });
  if (kind === 'checkbox') row.append(el('label', { attrs: { for: id } }, [input, ` ${field.label}`]));
  else row.append(el('label', { text: field.label, attrs: { for: id } }), input);
  if (field.hint) row.append(el('p', { class: 'hint', text: field.hint }));
  row.append(el('p', { class: 'field-error', attrs: { id: `${id}-error`, hidden: '' }, testid: 'field-error' }));
  return row;
}

/** The input (or fieldset) of a path inside a form. */
const inputOf = (root: ParentNode, path: string) => root.querySelector<HTMLElement>(`[data-field="${CSS.escape(path)}"]`);

/** Sets a value into a nested body at a dotted path. */
function put(body: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = body;
  for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
  at[keys[keys.length - 1] as string] = value;
}

/** Reads a nested value at a dotted path. */
export function pick(source: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((at, key) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), source);
}

/** Reads the fields back into a request body. */
export function readFields(root: ParentNode, fields: readonly Field[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const f of fields) {
    const input = inputOf(root, f.path);
    if (!input) continue;
    const kind = f.kind ?? 'text';
    let value: unknown;
    if (kind === 'checkbox') value = (input as HTMLInputElement).checked;
    else if (kind === 'checkboxes') value = [...input.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
    else {
      const raw = (input as HTMLInputElement).value.trim();
      if (raw === '') {
        if (f.optional) continue;
        if (f.nullable) value = null;
        else if (kind === 'list') value = [];
        else value = kind === 'number' ? undefined : '';
        if (value === undefined) continue;
      } else if (kind === 'number') value = Number(raw);
      else if (kind === 'list') value = raw.split(',').map((s) => s.trim()).filter(Boolean);
      else value = kind === 'password' || kind === 'textarea' ? (input as HTMLInputElement).value : raw;
    }
    put(body, f.path, value);
  }
  return body;
}

/** Fills the fields from a stored object (passwords and secrets stay empty). */
export function fillFields(root: ParentNode, fields: readonly Field[], source: unknown): void {
  for (const f of fields) {
    const input = inputOf(root, f.path);
    if (!input) continue;
    const value = f.kind === 'password' ? undefined : pick(source, f.path);
    const kind = f.kind ?? 'text';
    if (kind === 'checkbox') (input as HTMLInputElement).checked = value === true;
    else if (kind === 'checkboxes') {
      const set = new Set(Array.isArray(value) ? value.map(String) : []);
      for (const box of input.querySelectorAll<HTMLInputElement>('input')) box.checked = set.has(box.value);
    } else if (kind === 'select') {
      const select = input as HTMLSelectElement;
      if (value !== undefined && value !== null) select.value = String(value);
      else select.selectedIndex = 0;
    } else (input as HTMLInputElement).value = value === undefined || value === null ? '' : Array.isArray(value) ? value.join(', ') : String(value);
  }
}

/** Removes every field error of a form. */
export function clearErrors(root: ParentNode): void {
  for (const input of root.querySelectorAll<HTMLElement>('[aria-invalid="true"]')) {
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
  }
  for (const error of root.querySelectorAll<HTMLElement>('.field-error')) {
    error.textContent = '';
    error.hidden = true;
  }
}

/**
 * Shows an API error beside the input its `field` names: the exact path, else
 * the nearest enclosing one (`openingHours.days.mon.0` → its first input),
 * walking up the path. Returns false when no input matches (show it at the form).
 */
export function showFieldError(root: ParentNode, field: string | undefined, message: string): boolean {
  if (!field) return false;
  const text = message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
  const parts = field.split('.');
  for (let n = parts.length; n > 0; n--) {
    const path = parts.slice(0, n).join('.');
    const input = inputOf(root, path) ?? root.querySelector<HTMLElement>(`[data-field^="${CSS.escape(`${path}.`)}"]`);
    if (!input) continue;
    const error = input.closest('.field')?.querySelector<HTMLElement>('.field-error');
    if (!error) continue;
    error.textContent = n === parts.length ? text : `${field.slice(path.length + 1)}: ${text}`;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', error.id);
    input.focus();
    return true;
  }
  return false;
}

/** An API failure with the body's `field`, as `http` cannot carry it. */
export type ApiResult<T> = HttpResult<T> & { field?: string };

/** A JSON call that keeps the error's `field` (for `showFieldError`). */
export async function api<T>(method: string, path: string, token: string, body?: unknown): Promise<ApiResult<T>> {
  try {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const json = (text ? JSON.parse(text) : {}) as T & { error?: { message?: string; field?: string } };
    if (res.ok) return { ok: true, data: json };
    return { ok: false, status: res.status, message: json.error?.message ?? `request failed (${res.status})`, field: json.error?.field };
  } catch {
    return { ok: false, status: 0, message: 'cannot reach the server' };
  }
}
