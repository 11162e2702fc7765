import { createHash } from 'node:crypto';
import type { Context } from 'koa';

/** A strong validator for bytes served as they are (RFC 9110 §8.8.3). */
export function strongEtag(body: string | Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url')}"`;
}

/**
 * Whether the request's If-None-Match names this ETag (RFC 9110 §13.1.2, weak comparison),
 * so the answer is 304. Not ctx.fresh: that also honours the request's Cache-Control:
 * no-cache, which fetch() adds to every conditional request it revalidates with.
 */
export function matchesIfNoneMatch(ctx: Context, etag: string): boolean {
  const presented = ctx
    .get('if-none-match')
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''));
  return presented.includes(etag) || presented.includes('*');
}
