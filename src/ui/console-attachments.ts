/**
 * Attachment content in the console. The API wants the bearer token, which an
 * `<img src>` cannot send: photos are fetched and shown from blob URLs, other
 * files fetched on request and saved from one. Blob URLs live until the
 * conversation view is cleared.
 */
import { inlineImageType } from '../domain/attachments.ts';
import type { AttachmentView } from '../realtime/events.ts';
import { attachmentKind } from './console-view.ts';
import { el } from './dom.ts';
import { httpBlob } from './http.ts';

export interface AttachmentLoader {
  /**
   * Loads the photos of a rendered message (see `attachmentItem`) and arms its
   * download buttons; `shown` runs after each photo appears (it changes the
   * message's height).
   */
  fill(item: HTMLElement, attachments: readonly AttachmentView[], shown: () => void): void;
  /** Cancels loads under way and revokes every blob URL made so far. */
  clear(): void;
}

type Loaded = { url: string } | 'failed' | 'cleared';

/** Only the gateway's own API gets the token. */
function isOwnApi(url: string): boolean {
  const parsed = new URL(url, location.href);
  return parsed.origin === location.origin && parsed.pathname.startsWith('/api/');
}

export function attachmentLoader(token: () => string | undefined): AttachmentLoader {
  let urls: string[] = [];
  let aborter = new AbortController();

  /** Fetches an attachment into a blob URL; a photo must come back as the raster type it claims. */
  const load = async (a: AttachmentView, photo: boolean): Promise<Loaded> => {
    const signal = aborter.signal;
    const auth = token();
    if (!a.url || !auth || !isOwnApi(a.url)) return 'failed';
    const res = await httpBlob(a.url, auth, signal);
    if (signal.aborted) return 'cleared';
    if (!res.ok) return 'failed';
    if (photo && inlineImageType(res.data.type) !== inlineImageType(a.contentType)) return 'failed';
    const url = URL.createObjectURL(res.data);
    urls.push(url);
    return { url };
  };

  const failed = (a: AttachmentView): HTMLElement =>
    el('p', { class: 'attachment-error', text: `Could not load ${a.name}`, testid: 'attachment-error' });

  const showPhoto = async (slot: HTMLElement, a: AttachmentView, shown: () => void) => {
    const state = slot.querySelector<HTMLElement>('[data-testid="attachment-state"]');
    if (!state) return;
    const signal = aborter.signal;
    const loaded = await load(a, true);
    if (loaded === 'cleared') return;
    const img = loaded === 'failed' ? undefined : el('img', { class: 'attachment-image', attrs: { alt: a.name, src: loaded.url } });
    // A damaged image fails here rather than showing as a broken icon.
    const decoded = img ? await img.decode().then(() => true, () => false) : false;
    if (signal.aborted) return;
    if (!img || !decoded) {
      state.replaceWith(failed(a));
      return;
    }
    const toggle = el('button', {
      class: 'attachment-view',
      testid: 'attachment-photo',
      attrs: { type: 'button', 'aria-pressed': 'false', title: 'Show larger' },
    }, [img]);
    toggle.addEventListener('click', () => {
      const larger = toggle.getAttribute('aria-pressed') !== 'true';
      toggle.setAttribute('aria-pressed', String(larger));
      toggle.title = larger ? 'Show smaller' : 'Show larger';
    });
    state.replaceWith(toggle);
    shown();
  };

  const armDownload = (slot: HTMLElement, a: AttachmentView) => {
    const button = slot.querySelector<HTMLButtonElement>('[data-testid="attachment-download"]');
    if (!button) return;
    let saved: string | undefined;
    button.addEventListener('click', () => {
      void (async () => {
        button.disabled = true;
        slot.querySelector('[data-testid="attachment-error"]')?.remove();
        if (!saved) {
          const loaded = await load(a, false);
          if (loaded === 'cleared') return;
          button.disabled = false;
          if (loaded === 'failed') {
            slot.append(failed(a));
            return;
          }
          saved = loaded.url;
        }
        button.disabled = false;
        el('a', { attrs: { href: saved, download: a.name } }).click();
      })();
    });
  };

  return {
    fill(item, attachments, shown) {
      for (const slot of item.querySelectorAll<HTMLElement>('[data-testid="attachment"]')) {
        const a = attachments[Number(slot.dataset.index)];
        if (!a) continue;
        const kind = attachmentKind(a);
        if (kind === 'photo') void showPhoto(slot, a, shown);
        else if (kind === 'file') armDownload(slot, a);
      }
    },
    clear() {
      aborter.abort();
      aborter = new AbortController();
      for (const url of urls) URL.revokeObjectURL(url);
      urls = [];
    },
  };
}
