import { matchesIfNoneMatch, strongEtag } from './etag.js';
import type { Context, Next } from 'koa';
import type { Config } from '../config/schema.js';

export const BRAND_STYLESHEET_PATH = '/assets/brand.css';

/** Each configured colour and the custom property of views/public/style.css it sets. */
const PROPERTIES: Record<keyof Config['branding']['colours'], string> = {
  primary: '--gh-accent',
  primaryText: '--gh-accent-text',
  background: '--gh-bg',
  surface: '--gh-card',
  text: '--gh-text',
};

/** The operator's colours as CSS custom properties; the values were checked as hex at boot. */
export function brandStylesheet(colours: Config['branding']['colours']): string {
  const lines = Object.entries(PROPERTIES).map(([name, property]) => `  ${property}: ${colours[name as keyof typeof PROPERTIES]};`);
  return `:root {\n${lines.join('\n')}\n}\n`;
}

/**
 * Serves the brand stylesheet: a file, not an inline style, because the CSP allows styles
 * from 'self' only. Built once at boot; its ETag lets browsers revalidate cheaply (304) and
 * pick up new colours after a restart without a stale cache.
 */
export function serveBrandStylesheet(colours: Config['branding']['colours']) {
  const body = brandStylesheet(colours);
  const etag = strongEtag(body);
  return async function serveBrandStylesheetMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== BRAND_STYLESHEET_PATH || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, no-cache');
    ctx.set('ETag', etag);
    if (matchesIfNoneMatch(ctx, etag)) {
      ctx.status = 304;
      return;
    }
    ctx.body = body;
  };
}

/** The origin a logo URL loads from, for the CSP img-src; none for a path on this server. */
export function logoOrigin(logoUrl: string): string | undefined {
  return logoUrl.startsWith('https://') ? new URL(logoUrl).origin : undefined;
}
