import { createHash, randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';

/**
 * Client secrets are stored only as SHA-256 digests. oidc-provider compares the presented
 * secret with the client's `client_secret` metadata in constant time
 * (lib/models/client.js compareClientSecret), so the adapter hands it the digest and
 * this middleware replaces a presented secret by its digest before the provider reads it.
 * A fast hash is right here: secrets are 256-bit random values we generate, not passwords.
 * HMAC-based client auth (client_secret_jwt) is therefore not offered.
 */
export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

// RFC 6749 §2.3.1: the Basic credentials are form-urlencoded before base64.
const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, '%20'));
const formEncode = (value: string) => encodeURIComponent(value);

function rewriteBasic(header: string): string | undefined {
  const [scheme, token, extra] = header.split(' ');
  if (extra !== undefined || scheme?.toLowerCase() !== 'basic' || !token) return undefined;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    const id = decoded.slice(0, colon);
    const secret = formDecode(decoded.slice(colon + 1));
    if (!secret) return undefined;
    return 'Basic ' + Buffer.from(`${id}:${formEncode(hashClientSecret(secret))}`).toString('base64');
  } catch {
    return undefined; // malformed: left for the provider to reject with invalid_request
  }
}

const MAX_FORM_BYTES = 56 * 1024;

async function readForm(ctx: Context): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) ctx.throw(413, 'request entity too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Mounted in front of the provider for POSTs to the endpoints that authenticate clients. */
export function hashPresentedClientSecret(paths: readonly string[]) {
  return async function hashPresentedClientSecretMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'POST' || !paths.includes(ctx.path)) return next();
    const authorization = ctx.get('authorization');
    if (authorization) {
      const rewritten = rewriteBasic(authorization);
      if (rewritten) ctx.req.headers.authorization = rewritten;
      // With an Authorization header a body client_secret is refused by the provider anyway
      // (one authentication mechanism only), so the body is left for it to parse.
      return next();
    }
    if (ctx.is('application/x-www-form-urlencoded')) {
      const form = await readForm(ctx);
      if (form) {
        const secrets = form.getAll('client_secret');
        if (secrets.length === 1 && secrets[0]) form.set('client_secret', hashClientSecret(secrets[0]));
        // oidc-provider reads an already-parsed body from ctx.request.body (lib/shared/selective_body.js).
        (ctx.request as { body?: unknown }).body = Object.fromEntries(
          [...new Set(form.keys())].map((key) => {
            const values = form.getAll(key);
            return [key, values.length === 1 ? values[0] : values];
          }),
        );
      }
    }
    return next();
  };
}
