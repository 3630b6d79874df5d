/**
 * Serves the pages. Browser code is TypeScript in this folder, sharing the
 * socket contract with the server; esbuild bundles it in memory on first
 * request (a few milliseconds), so there is no build step to forget.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Express, Response } from 'express';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

const PAGES: Record<string, string> = {
  '/console': 'console.html',
  '/chat': 'chat.html',
  '/dashboard': 'dashboard.html',
  '/admin': 'admin.html',
};
const SCRIPTS = ['console', 'chat', 'dashboard', 'admin'] as const;

function cached<T>(load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= load().catch((err: unknown) => {
      value = undefined;
      throw err;
    });
    return value;
  };
}

const bundle = (name: string) =>
  cached(async () => {
    const result = await build({
      entryPoints: [here(`./${name}.ts`)],
      bundle: true,
      write: false,
      format: 'esm',
      target: 'es2022',
      minify: true,
      sourcemap: false,
      platform: 'browser',
    });
    const out = result.outputFiles[0];
    if (!out) throw new Error(`bundling ${name} produced nothing`);
    return out.text;
  });

const send = (res: Response, type: string, body: string) => {
  res.type(type).set('Cache-Control', 'no-cache').send(body);
};

/** Mounts `/console`, `/chat`, `/dashboard`, `/admin` and their assets. */
export function mountPages(app: Express): void {
  for (const [route, file] of Object.entries(PAGES)) {
    const html = cached(() => readFile(here(`./${file}`), 'utf8'));
    app.get(route, async (_req, res) => send(res, 'html', await html()));
  }
  app.get('/', (_req, res) => res.redirect('/console'));
  const css = cached(() => readFile(here('./style.css'), 'utf8'));
  app.get('/assets/style.css', async (_req, res) => send(res, 'css', await css()));
  for (const name of SCRIPTS) {
    const js = bundle(name);
    app.get(`/assets/${name}.js`, async (_req, res) => send(res, 'application/javascript', await js()));
  }
}
