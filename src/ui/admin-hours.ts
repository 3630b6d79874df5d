/**
 * The business hours editor of a queue (`openingHours`): always open, or a
 * time zone and, per day, ranges "HH:MM"–"HH:MM". Each time input carries its
 * API path (`openingHours.days.mon.0.1`) so a 400 lands beside it.
 */
import { el } from './dom.ts';

const DAYS = [
  ['mon', 'Monday'],
  ['tue', 'Tuesday'],
  ['wed', 'Wednesday'],
  ['thu', 'Thursday'],
  ['fri', 'Friday'],
  ['sat', 'Saturday'],
  ['sun', 'Sunday'],
] as const;
type Day = (typeof DAYS)[number][0];

export interface OpeningHours {
  timeZone: string;
  days: Partial<Record<Day, Array<[string, string]>>>;
}

let serial = 0;

function timeField(path: string, label: string, value: string): HTMLElement {
  const id = `hours-${++serial}`;
  return el('div', { class: 'field field-time' }, [
    el('label', { class: 'visually-hidden', text: label, attrs: { for: id } }),
    el('input', { attrs: { id, 'data-field': path, value, placeholder: 'HH:MM', size: '5', inputmode: 'numeric', 'aria-label': label } }),
    el('p', { class: 'field-error', attrs: { id: `${id}-error`, hidden: '' }, testid: 'field-error' }),
  ]);
}

/** The editor: a node for the form, and read/fill of `{ openingHours }`. */
export function hoursEditor() {
  const always = el('input', { attrs: { type: 'checkbox', id: 'hours-always', 'data-field': 'openingHours' }, testid: 'hours-always' });
  const zoneId = 'hours-zone';
  const zone = el('input', { attrs: { id: zoneId, 'data-field': 'openingHours.timeZone', placeholder: 'America/Chicago' }, testid: 'hours-zone' });
  const days = el('div', { class: 'hours-days' });
  const detail = el('div', { class: 'hours-detail' }, [
    el('div', { class: 'field' }, [
      el('label', { text: 'Time zone (IANA)', attrs: { for: zoneId } }),
      zone,
      el('p', { class: 'field-error', attrs: { id: `${zoneId}-error`, hidden: '' }, testid: 'field-error' }),
    ]),
    days,
  ]);
  const node = el('fieldset', { class: 'hours-editor', testid: 'hours-editor' }, [
    el('legend', { text: 'Business hours' }),
    el('div', { class: 'field field-checkbox' }, [
      el('label', { attrs: { for: 'hours-always' } }, [always, ' Open all hours (no business hours)']),
      el('p', { class: 'field-error', attrs: { id: 'hours-always-error', hidden: '' }, testid: 'field-error' }),
    ]),
    detail,
  ]);

  const ranges = new Map<Day, Array<[string, string]>>();
  function renderDays(): void {
    days.replaceChildren(
      ...DAYS.map(([day, name]) => {
        const list = ranges.get(day) ?? [];
        const add = el('button', { class: 'btn btn-small', text: 'Add hours', attrs: { type: 'button', 'aria-label': `Add hours on ${name}` }, testid: `hours-add-${day}` });
        add.addEventListener('click', () => {
          sync();
          ranges.set(day, [...list, ['08:00', '18:00']]);
          renderDays();
          days.querySelector<HTMLInputElement>(`[data-field="openingHours.days.${day}.${list.length}.0"]`)?.focus();
        });
        return el('div', { class: 'hours-day', testid: `hours-${day}` }, [
          el('span', { class: 'hours-day-name', text: name }),
          ...(list.length === 0 ? [el('span', { class: 'hint', text: 'closed' })] : []),
          ...list.map(([from, to], i) => {
            const remove = el('button', { class: 'btn btn-small btn-quiet', text: 'Remove', attrs: { type: 'button', 'aria-label': `Remove ${name} hours ${i + 1}` } });
            remove.addEventListener('click', () => {
              sync();
              ranges.set(day, (ranges.get(day) ?? []).filter((_, j) => j !== i));
              renderDays();
            });
            return el('div', { class: 'hours-range' }, [
              timeField(`openingHours.days.${day}.${i}.0`, `${name} hours ${i + 1} from`, from),
              el('span', { text: '–', attrs: { 'aria-hidden': 'true' } }),
              timeField(`openingHours.days.${day}.${i}.1`, `${name} hours ${i + 1} to`, to),
              remove,
            ]);
          }),
          add,
        ]);
      }),
    );
  }

  /** Reads the inputs back into `ranges` (before re-rendering). */
  function sync(): void {
    for (const [day] of DAYS) {
      const list = ranges.get(day) ?? [];
      list.forEach((range, i) => {
        for (const end of [0, 1] as const) {
          const input = days.querySelector<HTMLInputElement>(`[data-field="openingHours.days.${day}.${i}.${end}"]`);
          if (input) range[end] = input.value.trim();
        }
      });
    }
  }

  const toggle = () => {
    detail.hidden = always.checked;
  };
  always.addEventListener('change', toggle);

  return {
    node,
    read(): { openingHours: OpeningHours | null } {
      if (always.checked) return { openingHours: null };
      sync();
      const out: OpeningHours['days'] = {};
      for (const [day] of DAYS) {
        const list = ranges.get(day) ?? [];
        if (list.length > 0) out[day] = list.map(([a, b]) => [a, b]);
      }
      return { openingHours: { timeZone: zone.value.trim(), days: out } };
    },
    fill(item: { openingHours?: OpeningHours | null } | undefined): void {
      const hours = item?.openingHours ?? null;
      always.checked = hours === null;
      zone.value = hours?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
      ranges.clear();
      for (const [day] of DAYS) ranges.set(day, (hours?.days[day] ?? []).map(([a, b]) => [a, b]));
      renderDays();
      toggle();
    },
  };
}
