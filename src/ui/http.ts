/**
 * Calls to Lifeline's HTTP API from the pages, with the bearer token: JSON,
 * and binary content (attachments). Failures come back as values with the
 * server's message, never as throws.
 */

export type HttpResult<T> = { ok: true; data: T } | { ok: false; status: number; message: string };

export async function http<T>(method: string, path: string, token?: string, body?: unknown): Promise<HttpResult<T>> {
  try {
    const res = await fetch(path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const json = (text ? JSON.parse(text) : {}) as T & { error?: { message?: string } };
    if (res.ok) return { ok: true, data: json };
    return { ok: false, status: res.status, message: json.error?.message ?? `request failed (${res.status})` };
  } catch {
    return { ok: false, status: 0, message: 'cannot reach the server' };
  }
}

/** Fetches binary content (an attachment) with the bearer token; an aborted fetch fails with status 0. */
export async function httpBlob(path: string, token: string, signal?: AbortSignal): Promise<HttpResult<Blob>> {
  try {
    const res = await fetch(path, { headers: { authorization: `Bearer ${token}` }, signal });
    if (res.ok) return { ok: true, data: await res.blob() };
    const json = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    return { ok: false, status: res.status, message: json.error?.message ?? `request failed (${res.status})` };
  } catch {
    return { ok: false, status: 0, message: 'cannot reach the server' };
  }
}
