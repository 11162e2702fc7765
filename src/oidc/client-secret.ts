import type { Context, Next } from 'koa';
import { readFormBody, readJsonObjectBody } from '../http/request-body.js';
import { hashClientSecret } from '../clients/client-secret.js';

/* The provider glue of client secrets: a presented secret is replaced by its digest
 * (src/clients/client-secret.ts) before oidc-provider compares it with the stored one. */

// RFC 6749 §2.3.1: the Basic credentials are form-urlencoded before base64.
const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, '%20'));
const formEncode = (value: string) => encodeURIComponent(value);

/** The client id and secret of an HTTP Basic Authorization header (RFC 6749 §2.3.1). */
export function basicCredentials(header: string): { clientId: string; secret: string } | undefined {
  const [scheme, token, extra] = header.split(' ');
  if (extra !== undefined || scheme?.toLowerCase() !== 'basic' || !token) return undefined;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined; // malformed: left for the provider to reject with invalid_request
  }
}

function rewriteBasic(header: string): string | undefined {
  const [, token] = header.split(' ');
  const credentials = basicCredentials(header);
  if (!token || !credentials?.secret) return undefined;
  // The id is passed on exactly as the client encoded it.
  const id = Buffer.from(token, 'base64').toString('utf8').split(':', 1)[0] ?? '';
  return 'Basic ' + Buffer.from(`${id}:${formEncode(hashClientSecret(credentials.secret))}`).toString('base64');
}

function hashSecretField(body: Record<string, unknown>): void {
  const secret = body.client_secret;
  if (typeof secret === 'string' && secret) body.client_secret = hashClientSecret(secret);
}

/** `/reg/<client_id>`: the RFC 7592 client configuration endpoint under the registration endpoint. */
const isClientConfigurationPath = (path: string, registrationPath: string) =>
  path.startsWith(`${registrationPath}/`) && path.length > registrationPath.length + 1;

/**
 * Mounted in front of the provider for POSTs to the endpoints that authenticate clients,
 * and for RFC 7592 updates (PUT /reg/:client_id), whose body carries the client's
 * client_secret (§2.2) that oidc-provider compares with the stored value, our digest.
 */
export function hashPresentedClientSecret(paths: readonly string[], registrationPath?: string) {
  return async function hashPresentedClientSecretMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.method === 'PUT' && registrationPath && isClientConfigurationPath(ctx.path, registrationPath)) {
      const body = await readJsonObjectBody(ctx);
      if (body) hashSecretField(body);
      return next();
    }
    if (ctx.method !== 'POST' || !paths.includes(ctx.path)) return next();
    const authorization = ctx.get('authorization');
    if (authorization) {
      const rewritten = rewriteBasic(authorization);
      if (rewritten) ctx.req.headers.authorization = rewritten;
      // With an Authorization header a body client_secret is refused by the provider anyway
      // (one authentication mechanism only), so the body is left for it to parse.
      return next();
    }
    const form = await readFormBody(ctx);
    // Only a single client_secret is hashed; a repeated one is the provider's invalid_request.
    if (form && typeof form.client_secret === 'string') hashSecretField(form);
    return next();
  };
}
