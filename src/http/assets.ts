import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context, Next } from 'koa';
import { packageRoot } from '../config/package-root.js';

const TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

/** The few static files of views/public, read once at boot and served under /assets/. */
export function serveAssets(files: readonly string[]) {
  const assets = new Map(files.map((name) => [
    `/assets/${name}`,
    { body: readFileSync(join(packageRoot, 'views', 'public', name)), type: TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream' },
  ]));
  return async function serveAssetsMiddleware(ctx: Context, next: Next): Promise<void> {
    const asset = (ctx.method === 'GET' || ctx.method === 'HEAD') ? assets.get(ctx.path) : undefined;
    if (!asset) return next();
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = asset.body;
  };
}
