/**
 * The console's emergency-workflow tools around the open conversation: the
 * canned-reply picker (fills the reply box; the agent edits before sending),
 * the SMS counter (GSM-7 or UCS-2 and parts, live while typing, for SMS and
 * voice conversations) and the location panel (current location with its
 * source and an OpenStreetMap link, the history, confirm, type a location).
 * Everything is text; the map is a link only, nothing loads from outside.
 */
import { describeSms } from '../domain/sms.ts';
import type { ConversationView, LocationView } from '../realtime/events.ts';
import { el, formatTime } from './dom.ts';
import { http } from './http.ts';

export interface ExtrasElements {
  reply: HTMLTextAreaElement;
  canned: HTMLSelectElement;
  smsCounter: HTMLElement;
  location: HTMLElement;
  locationCurrent: HTMLElement;
  locationHistory: HTMLOListElement;
  locationForm: HTMLFormElement;
  locationLat: HTMLInputElement;
  locationLon: HTMLInputElement;
}

interface CannedReply {
  id: string;
  language: string;
  title: string;
  body: string;
}

const SOURCE_LABELS: Record<LocationView['source'], string> = {
  browser: "caller's browser (GPS)",
  carrier: 'carrier',
  provider: 'location provider',
  agent: 'typed by a call-taker',
};

/** An OpenStreetMap link for a position (opened by the agent; the console loads nothing from it). */
export function mapUrl(l: Pick<LocationView, 'latitude' | 'longitude'>): string {
  const lat = l.latitude.toFixed(6);
  const lon = l.longitude.toFixed(6);
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`;
}

/** "SMS: GSM-7 · 1 part · 120 left" for the reply box. */
export function smsCounterText(text: string): string {
  const d = describeSms(text);
  const parts = `${d.parts} part${d.parts === 1 ? '' : 's'}`;
  return d.tooLong ? `SMS: ${d.encoding} · too long to send` : `SMS: ${d.encoding} · ${parts} · ${d.remainingInPart} left`;
}

function locationLine(l: LocationView): string {
  const acc = l.uncertaintyMeters !== null ? ` ±${Math.round(l.uncertaintyMeters)} m` : '';
  return `${l.latitude.toFixed(5)}, ${l.longitude.toFixed(5)}${acc} · ${SOURCE_LABELS[l.source]} · ${formatTime(l.at)}${l.confirmed ? ' · confirmed' : ''}`;
}

export function consoleExtras(ui: ExtrasElements, token: () => string | undefined, onError: (text: string) => void) {
  let current: ConversationView | undefined;
  let canned: CannedReply[] = [];

  const renderCounter = () => {
    const sms = current !== undefined && (current.channel === 'sms' || current.channel === 'voice');
    ui.smsCounter.hidden = !sms;
    if (!sms) return;
    const d = describeSms(ui.reply.value);
    ui.smsCounter.textContent = smsCounterText(ui.reply.value);
    ui.smsCounter.dataset.encoding = d.encoding;
    ui.smsCounter.dataset.parts = String(d.parts);
  };

  const renderLocations = (locations: LocationView[]) => {
    const now = locations.find((l) => l.current);
    ui.locationCurrent.replaceChildren(
      ...(now
        ? [
            el('span', { text: locationLine(now), testid: 'location-current-text' }),
            ' ',
            el('a', {
              text: 'Open map',
              testid: 'location-map-link',
              attrs: { href: mapUrl(now), target: '_blank', rel: 'noopener noreferrer' },
            }),
          ]
        : [el('span', { text: 'No location yet.', testid: 'location-current-text' })]),
    );
    ui.locationHistory.replaceChildren(
      ...[...locations].reverse().map((l) => {
        const item = el('li', { testid: 'location-entry', attrs: { 'data-location-id': String(l.id), 'data-source': l.source } }, [
          el('span', { text: locationLine(l) }),
        ]);
        if (!l.confirmed) {
          item.append(' ', el('button', { class: 'btn btn-small', text: 'Confirm', testid: 'location-confirm', attrs: { type: 'button', 'data-location-id': String(l.id) } }));
        }
        return item;
      }),
    );
  };

  const loadLocations = async (conversationId: string) => {
    const t = token();
    if (!t) return;
    const res = await http<{ locations: LocationView[] }>('GET', `/api/conversations/${conversationId}/locations`, t);
    if (current?.id !== conversationId) return;
    if (res.ok) renderLocations(res.data.locations);
    else onError(`Could not load the location: ${res.message}`);
  };

  ui.reply.addEventListener('input', renderCounter);

  ui.canned.addEventListener('change', () => {
    const chosen = canned.find((c) => c.id === ui.canned.value);
    ui.canned.value = '';
    if (!chosen || ui.reply.disabled) return;
    // Fills the box; the agent reads and edits it before sending.
    ui.reply.value = chosen.body;
    ui.reply.dispatchEvent(new Event('input'));
    ui.reply.focus();
  });

  ui.locationHistory.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('[data-testid="location-confirm"]');
    const id = button?.dataset.locationId;
    const c = current;
    const t = token();
    if (!id || !c || !t) return;
    void http<{ locations: LocationView[] }>('POST', `/api/conversations/${c.id}/locations/${id}/confirm`, t, {}).then((res) => {
      if (res.ok) renderLocations(res.data.locations);
      else onError(`Could not confirm the location: ${res.message}`);
    });
  });

  ui.locationForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const c = current;
    const t = token();
    const latitude = Number(ui.locationLat.value);
    const longitude = Number(ui.locationLon.value);
    if (!c || !t) return;
    if (!ui.locationLat.value || !ui.locationLon.value || !Number.isFinite(latitude) || !Number.isFinite(longitude)) {
      onError('Type a latitude and a longitude (decimal degrees).');
      return;
    }
    void http<{ locations: LocationView[] }>('POST', `/api/conversations/${c.id}/locations`, t, { latitude, longitude }).then((res) => {
      if (!res.ok) {
        onError(`Could not save the location: ${res.message}`);
        return;
      }
      ui.locationLat.value = '';
      ui.locationLon.value = '';
      renderLocations(res.data.locations);
    });
  });

  return {
    /** Loads the canned replies for the picker (after sign-in). */
    async start(): Promise<void> {
      const t = token();
      if (!t) return;
      const res = await http<{ cannedReplies: CannedReply[] }>('GET', '/api/canned-replies', t);
      if (!res.ok) return;
      canned = res.data.cannedReplies;
      ui.canned.replaceChildren(
        el('option', { text: 'Canned reply…', attrs: { value: '' } }),
        ...canned.map((c) => el('option', { text: `[${c.language}] ${c.title}`, attrs: { value: c.id } })),
      );
      ui.canned.hidden = canned.length === 0;
    },
    /** A conversation was opened (or reloaded). */
    show(conversation: ConversationView): void {
      const changed = current?.id !== conversation.id;
      current = conversation;
      ui.location.hidden = false;
      renderCounter();
      if (changed) ui.locationHistory.replaceChildren();
      void loadLocations(conversation.id);
    },
    /** A pushed location change. */
    locations(update: { conversationId: string; locations: LocationView[] }): void {
      if (current?.id === update.conversationId) renderLocations(update.locations);
    },
    clear(): void {
      current = undefined;
      ui.location.hidden = true;
      ui.smsCounter.hidden = true;
    },
  };
}
