/**
 * JSON calls to Lifeline's HTTP API from the pages, with the bearer token.
 * Failures come back as values with the server's message, never as throws.
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
