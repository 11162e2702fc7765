import { matchesIfNoneMatch, strongEtag } from './etag.js';
import type { Context, Next } from 'koa';
import type { Config } from '../config/schema.js';

const BRAND_STYLESHEET_PATH = '/assets/brand.css';

/** Each configured colour and the custom property of views/public/style.css it sets. */
const PROPERTIES: Record<keyof Config['branding']['colours'], string> = {
  primary: '--gh-accent',
  primaryText: '--gh-accent-text',
  background: '--gh-bg',
  surface: '--gh-card',
  text: '--gh-text',
};

/** WCAG 2.2 relative luminance of a hex colour (#rgb or #rrggbb, as the schema allows). */
function luminance(hex: string): number {
  const digits =
    hex.length === 4 ? [...hex.slice(1)].map((d) => d + d) : [hex.slice(1, 3), hex.slice(3, 5), hex.slice(5, 7)];
  const [r = 0, g = 0, b = 0] = digits.map((pair) => {
    const c = parseInt(pair, 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2.2 contrast ratio of two hex colours, 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** Body text on the card needs 4.5:1 (WCAG 2.2 SC 1.4.3, level AA); links are body text. */
const LINK_CONTRAST = 4.5;

/**
 * The colour of links (--gh-link, used by views/public/style.css): the primary colour, as on
 * buttons, when it reads on the card; else the text colour (links stay underlined, so they
 * are still told apart from the text around them, SC 1.4.1).
 */
function linkColour(colours: Config['branding']['colours']): string {
  return contrastRatio(colours.primary, colours.surface) >= LINK_CONTRAST ? colours.primary : colours.text;
}

/** The operator's colours as CSS custom properties; the values were checked as hex at boot. */
export function brandStylesheet(colours: Config['branding']['colours']): string {
  const lines = Object.entries(PROPERTIES).map(
    ([name, property]) => `  ${property}: ${colours[name as keyof typeof PROPERTIES]};`,
  );
  lines.push(`  --gh-link: ${linkColour(colours)};`);
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
