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

/**
 * The dark scheme's own colours: every pair meets WCAG 2.2 AA — text, muted text, errors and
 * links 4.5:1 on the card and the page, button text 4.5:1 on the accent, field borders 3:1
 * against the card (SC 1.4.11) — test/unit/branding.suite.ts checks each.
 */
export const DARK_SCHEME = {
  background: '#12151c',
  surface: '#1c212b',
  text: '#e6e9ef',
  muted: '#a9b1c0',
  border: '#6b7488',
  error: '#ff8a80',
  primary: '#7cb1ff',
  primaryText: '#0b1220',
} as const;

/** A control's colour against what surrounds it: 3:1 (WCAG 2.2 SC 1.4.11). */
const CONTROL_CONTRAST = 3;

/**
 * The dark scheme's accent: the operator's primary colour when it stands out on the dark card
 * and its button text reads on it, else the dark scheme's own — a brand blue chosen for white
 * cards is often too dark to see on a dark one.
 */
function darkAccent(colours: Config['branding']['colours']): { primary: string; primaryText: string; link: string } {
  const keeps =
    contrastRatio(colours.primary, DARK_SCHEME.surface) >= CONTROL_CONTRAST &&
    contrastRatio(colours.primary, colours.primaryText) >= LINK_CONTRAST;
  const accent = keeps ? colours : DARK_SCHEME;
  const link = contrastRatio(accent.primary, DARK_SCHEME.surface) >= LINK_CONTRAST ? accent.primary : DARK_SCHEME.text;
  return { primary: accent.primary, primaryText: accent.primaryText, link };
}

/** Below this relative luminance the operator's own page background is dark: their colours are a dark theme already. */
const DARK_BACKGROUND = 0.18;

/**
 * The operator's colours as CSS custom properties; the values were checked as hex at boot.
 * They are the light scheme. Browsers asking for a dark one (prefers-color-scheme) get the
 * dark scheme's surfaces with the operator's accent where it reads there — unless the
 * operator's colours are dark already, which then hold for both.
 */
export function brandStylesheet(colours: Config['branding']['colours']): string {
  const lines = Object.entries(PROPERTIES).map(
    ([name, property]) => `  ${property}: ${colours[name as keyof typeof PROPERTIES]};`,
  );
  lines.push(`  --gh-link: ${linkColour(colours)};`);
  const ownDark = luminance(colours.background) < DARK_BACKGROUND;
  // Form controls and scroll bars follow: both schemes, or the operator's dark one only.
  lines.unshift(`  color-scheme: ${ownDark ? 'dark' : 'light dark'};`);
  const light = `:root {\n${lines.join('\n')}\n}\n`;
  if (ownDark) return light;
  const accent = darkAccent(colours);
  const dark = [
    `--gh-bg: ${DARK_SCHEME.background};`,
    `--gh-card: ${DARK_SCHEME.surface};`,
    `--gh-text: ${DARK_SCHEME.text};`,
    `--gh-muted: ${DARK_SCHEME.muted};`,
    `--gh-border: ${DARK_SCHEME.border};`,
    `--gh-error: ${DARK_SCHEME.error};`,
    `--gh-accent: ${accent.primary};`,
    `--gh-accent-text: ${accent.primaryText};`,
    `--gh-link: ${accent.link};`,
  ];
  return `${light}@media (prefers-color-scheme: dark) {\n  :root {\n${dark.map((line) => `    ${line}`).join('\n')}\n  }\n}\n`;
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
