import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Context, Next } from 'koa';
import { packageRoot } from '../config/package-root.js';

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * @simplewebauthn/browser's prebuilt UMD bundle (it defines the global SimpleWebAuthnBrowser),
 * served from node_modules under this name: no CDN, no bundler.
 */
export const WEBAUTHN_BROWSER_BUNDLE = 'simplewebauthn-browser.js';

/** Assets that come from packages rather than views/public, by the name they are served under. */
const FROM_PACKAGES: Record<string, () => string> = {
  // The package exports only its entry points; its dist/ sits two levels above script/index.js.
  [WEBAUTHN_BROWSER_BUNDLE]: () =>
    join(
      dirname(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser'))),
      'dist',
      'bundle',
      'index.umd.min.js',
    ),
};

/** The few static files of views/public (and FROM_PACKAGES), read once at boot and served under /assets/. */
export function serveAssets(files: readonly string[]) {
  const assets = new Map(
    files.map((name) => [
      `/assets/${name}`,
      {
        body: readFileSync(FROM_PACKAGES[name]?.() ?? join(packageRoot, 'views', 'public', name)),
        type: TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream',
      },
    ]),
  );
  return async function serveAssetsMiddleware(ctx: Context, next: Next): Promise<void> {
    const asset = ctx.method === 'GET' || ctx.method === 'HEAD' ? assets.get(ctx.path) : undefined;
    if (!asset) return next();
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = asset.body;
  };
}
