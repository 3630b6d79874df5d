/**
 * Files citizens share in Slack (a photo of the scene, a screenshot): fetched
 * with the bot token (Slack's file URLs need it; the app needs `files:read`)
 * while the event is being handled, within a time budget so Slack still gets
 * its answer within three seconds. What cannot be kept — too large, deleted,
 * hidden by the workspace's plan, too slow — becomes a line of text naming it,
 * so the agent knows it exists.
 */
import type { IncomingAttachment } from '../../src/store/attachments.ts';
import { fileName, fileNote, formatSize, type SlackFile } from './normalise.ts';

export interface FileDownloadOptions {
  botToken: string;
  /** The link's Web API URL: its origin may serve files too (tests, a proxy). */
  apiUrl: string;
  maxBytes: number;
  /** Aborts what is still downloading when the time budget is spent. */
  signal: AbortSignal;
}

/** What was kept of a message's files, and a note for each one that was not. */
export interface DownloadedFiles {
  kept: IncomingAttachment[];
  notes: string[];
}

/** Whether the bot token may be sent to this URL: Slack's own hosts over HTTPS, or the configured API's origin. */
export function mayReceiveToken(url: string, apiUrl: string): boolean {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return false;
  }
  if (target.protocol === 'https:' && (target.hostname === 'slack.com' || target.hostname.endsWith('.slack.com'))) return true;
  return target.origin === new URL(apiUrl).origin;
}

/** Reads a response body, giving up past `max` bytes. */
async function readCapped(res: Response, max: number): Promise<Buffer | undefined> {
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

async function downloadOne(file: SlackFile, o: FileDownloadOptions): Promise<IncomingAttachment | string> {
  if (file.mode === 'tombstone') return fileNote(file, 'it was deleted');
  if (file.mode === 'hidden_by_limit') return fileNote(file, 'hidden by the workspace plan’s history limit');
  const url = file.url_private_download ?? file.url_private;
  if (!url) return fileNote(file, 'Slack gave no address to download it');
  if (!mayReceiveToken(url, o.apiUrl)) return fileNote(file, 'it is not stored on Slack');
  if (typeof file.size === 'number' && file.size > o.maxBytes) return fileNote(file, `larger than ${formatSize(o.maxBytes)}`);
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${o.botToken}` }, signal: o.signal });
    if (!res.ok) {
      await res.body?.cancel();
      return fileNote(file, `Slack answered HTTP ${res.status}`);
    }
    const type = res.headers.get('content-type') ?? '';
    if (type.startsWith('text/html') && file.mimetype !== 'text/html') {
      // Slack serves its sign-in page to a token without files:read.
      await res.body?.cancel();
      return fileNote(file, 'Slack refused to hand it over (does the app have the files:read scope?)');
    }
    const content = await readCapped(res, o.maxBytes);
    if (!content) return fileNote(file, `larger than ${formatSize(o.maxBytes)}`);
    return { name: fileName(file), contentType: file.mimetype || type.split(';')[0] || 'application/octet-stream', content };
  } catch (err) {
    if (o.signal.aborted) return fileNote(file, 'not downloaded in time');
    return fileNote(file, `download failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Downloads a message's files side by side; never throws. */
export async function downloadSlackFiles(files: readonly SlackFile[], o: FileDownloadOptions): Promise<DownloadedFiles> {
  const results = await Promise.all(files.map((f) => downloadOne(f, o)));
  return {
    kept: results.filter((r): r is IncomingAttachment => typeof r !== 'string'),
    notes: results.filter((r): r is string => typeof r === 'string'),
  };
}
