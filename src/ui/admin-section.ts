/**
 * One section of the admin page: a table of what exists and a form to create
 * or change one, driven by a small spec (paths, columns, fields). Errors of
 * the API land beside the field they name, or under the form.
 */
import { api, clearErrors, fieldRow, fillFields, readFields, showFieldError, type Field } from './admin-form.ts';
import { el } from './dom.ts';

export type Mode = 'create' | 'edit';

export interface SectionSpec<T> {
  key: string;
  title: string;
  /** GET path and the property of its answer holding the list. */
  list: { path: string; prop: string };
  /** POST path (absent: nothing can be created here). */
  createPath?: string;
  patchPath?(item: T): string;
  deletePath?(item: T): string;
  idOf(item: T): string;
  nameOf(item: T): string;
  columns: Array<{ label: string; cell(item: T): string | Node }>;
  /** The form's fields; `draft` is the form's current body, for fields that depend on others. */
  fields(mode: Mode, draft: Record<string, unknown>): Field[];
  /** Paths whose change rebuilds the fields (a link's channel, an SMPP mode). */
  rebuildOn?: string[];
  /** Inputs beyond the fields (the opening hours editor). */
  extra?: { node: HTMLElement; read(): Record<string, unknown>; fill(item: T | undefined): void };
  /** Buttons of a row besides Edit and Delete (start, stop). */
  actions?(item: T, reload: () => Promise<void>): HTMLElement[];
  /**
   * Where the API's error `field` may sit in the form, in order: links name a
   * setting or secret relative to its object (`port` is `settings.port`).
   */
  fieldPaths?(field: string): string[];
  /** What a new item's form starts with. */
  defaults?: Record<string, unknown>;
  /** Turns the stored item into the form's shape, when they differ. */
  toForm?(item: T): unknown;
}

export interface Section<T> {
  node: HTMLElement;
  items: T[];
  reload(): Promise<void>;
}

/** Builds a section; `token` reads the signed-in token, `say` reports to the page's status line. */
export function section<T>(spec: SectionSpec<T>, token: () => string | undefined, say: (text: string, error?: boolean) => void): Section<T> {
  const tbody = el('tbody', { testid: `${spec.key}-rows` });
  const table = el('table', { class: 'admin-table' }, [
    el('caption', { class: 'visually-hidden', text: spec.title }),
    el('thead', {}, [el('tr', {}, [...spec.columns.map((c) => el('th', { text: c.label, attrs: { scope: 'col' } })), el('th', { text: 'Actions', attrs: { scope: 'col' } })])]),
    tbody,
  ]);
  const fieldBox = el('div', { class: 'fields' });
  const formError = el('p', { class: 'form-error', attrs: { role: 'alert', hidden: '' }, testid: `${spec.key}-form-error` });
  const legend = el('h3', { text: '' });
  const submit = el('button', { class: 'btn btn-primary', text: 'Create', attrs: { type: 'submit' }, testid: `${spec.key}-submit` });
  const cancel = el('button', { class: 'btn', text: 'New', attrs: { type: 'button' }, testid: `${spec.key}-new` });
  const form = el('form', { class: 'admin-form', testid: `${spec.key}-form`, attrs: { novalidate: '' } }, [
    legend,
    fieldBox,
    ...(spec.extra ? [spec.extra.node] : []),
    formError,
    el('div', { class: 'form-actions' }, [submit, cancel]),
  ]);
  const node = el('section', { class: 'admin-section', attrs: { id: spec.key, 'aria-labelledby': `${spec.key}-title` }, testid: `section-${spec.key}` }, [
    el('h2', { text: spec.title, attrs: { id: `${spec.key}-title` } }),
    el('div', { class: 'table-wrap' }, [table]),
    ...(spec.createPath ? [form] : []),
  ]);
  const state: Section<T> = { node, items: [], reload };
  let mode: Mode = 'create';
  let editing: T | undefined;
  let fields: Field[] = [];

  function build(draft: Record<string, unknown>): void {
    fields = spec.fields(mode, draft);
    fieldBox.replaceChildren(...fields.map(fieldRow));
    fillFields(fieldBox, fields, draft);
  }

  function open(next: Mode, item?: T): void {
    mode = next;
    editing = item;
    const source = (item && spec.toForm ? spec.toForm(item) : item) ?? spec.defaults ?? {};
    build(source as Record<string, unknown>);
    spec.extra?.fill(item);
    clearErrors(form);
    formError.hidden = true;
    legend.textContent = next === 'create' ? `New ${spec.title.toLowerCase().replace(/s$/, '')}` : `Change ${spec.nameOf(item as T)}`;
    submit.textContent = next === 'create' ? 'Create' : 'Save';
    form.dataset.mode = next;
  }

  fieldBox.addEventListener('change', (event) => {
    const path = (event.target as HTMLElement).dataset.field;
    if (!path || !spec.rebuildOn?.includes(path)) return;
    build(readFields(fieldBox, fields));
    fieldBox.querySelector<HTMLElement>(`[data-field="${CSS.escape(path)}"]`)?.focus();
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const t = token();
      if (!t) return;
      clearErrors(form);
      formError.hidden = true;
      const body = { ...readFields(fieldBox, fields), ...(spec.extra?.read() ?? {}) };
      const path = mode === 'edit' && editing && spec.patchPath ? spec.patchPath(editing) : (spec.createPath as string);
      submit.disabled = true;
      const res = await api<Record<string, unknown>>(mode === 'edit' ? 'PATCH' : 'POST', path, t, body);
      submit.disabled = false;
      if (!res.ok) {
        const field = res.field;
        const text = field && res.message.startsWith(`${field}: `) ? res.message.slice(field.length + 2) : res.message;
        const paths = field ? (spec.fieldPaths?.(field) ?? [field]) : [];
        if (!paths.some((path) => showFieldError(form, path, text))) {
          formError.textContent = res.message;
          formError.hidden = false;
        }
        return;
      }
      say(mode === 'edit' ? `Saved ${spec.nameOf(editing as T)}.` : `Created.`);
      open('create');
      await reload();
    })();
  });
  cancel.addEventListener('click', () => open('create'));

  function row(item: T): HTMLTableRowElement {
    const actions: HTMLElement[] = [...(spec.actions?.(item, reload) ?? [])];
    if (spec.patchPath) {
      const edit = el('button', { class: 'btn btn-small', text: 'Edit', attrs: { type: 'button', 'aria-label': `Edit ${spec.nameOf(item)}` }, testid: 'edit' });
      edit.addEventListener('click', () => {
        open('edit', item);
        form.querySelector<HTMLElement>('input, select, textarea')?.focus();
      });
      actions.push(edit);
    }
    if (spec.deletePath) {
      const del = el('button', { class: 'btn btn-small', text: 'Delete', attrs: { type: 'button', 'aria-label': `Delete ${spec.nameOf(item)}` }, testid: 'delete' });
      del.addEventListener('click', () => {
        // Two steps instead of a dialog: the second press confirms.
        if (del.dataset.armed !== 'true') {
          del.dataset.armed = 'true';
          del.textContent = 'Confirm delete';
          return;
        }
        void (async () => {
          const t = token();
          if (!t) return;
          const res = await api('DELETE', spec.deletePath?.(item) as string, t);
          if (!res.ok) say(`Could not delete ${spec.nameOf(item)}: ${res.message}`, true);
          else say(`Deleted ${spec.nameOf(item)}.`);
          await reload();
        })();
      });
      actions.push(del);
    }
    const cells = spec.columns.map((c) => {
      const value = c.cell(item);
      return el('td', { attrs: { 'data-label': c.label } }, [value]);
    });
    return el('tr', { testid: `${spec.key}-row`, attrs: { 'data-id': spec.idOf(item), 'data-name': spec.nameOf(item) } }, [
      ...cells,
      el('td', { class: 'row-actions' }, actions),
    ]);
  }

  async function reload(): Promise<void> {
    const t = token();
    if (!t) return;
    const res = await api<Record<string, T[]>>('GET', spec.list.path, t);
    if (!res.ok) {
      say(`Could not load ${spec.title.toLowerCase()}: ${res.message}`, true);
      return;
    }
    state.items = res.data[spec.list.prop] ?? [];
    // Keep focus where it was when a live refresh replaces the rows.
    const focused = document.activeElement instanceof HTMLElement && tbody.contains(document.activeElement) ? document.activeElement.dataset.testid : undefined;
    const focusedRow = focused ? document.activeElement?.closest('tr')?.dataset.id : undefined;
    tbody.replaceChildren(...state.items.map(row));
    if (focusedRow && focused) tbody.querySelector<HTMLElement>(`tr[data-id="${CSS.escape(focusedRow)}"] [data-testid="${focused}"]`)?.focus();
    if (state.items.length === 0) tbody.append(el('tr', {}, [el('td', { text: 'None yet.', attrs: { colspan: String(spec.columns.length + 1) } })]));
  }

  open('create');
  return state;
}
