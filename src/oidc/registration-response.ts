import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { generateClientSecret } from '../clients/client-secret.js';

/** The clear client secret issued while handling a request, keyed by that request. */
const issuedSecrets = new WeakMap<IncomingMessage, string>();

/**
 * oidc-provider's `features.registration.secretFactory`: a new secret, remembered for the
 * one response that may show it. The adapter stores only its digest.
 */
export async function issueClientSecret(ctx: KoaContextWithOIDC): Promise<string> {
  const secret = generateClientSecret();
  issuedSecrets.set(ctx.req, secret);
  return secret;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * oidc-provider answers RFC 7592 reads and updates with the client's stored metadata, whose
 * `client_secret` is our SHA-256 digest. A digest is not a credential the client can use,
 * and publishing it would only help an attacker test guesses offline, so it is removed; a
 * secret issued in this very request (registration, or an update that needs a new one)
 * stays, because that response is the only time the client can learn it (RFC 7591 §3.2.1).
 */
export function omitStoredClientSecret(registrationPath: string) {
  return async function omitStoredClientSecretMiddleware(ctx: Context, next: Next): Promise<void> {
    await next();
    if (ctx.path !== registrationPath && !ctx.path.startsWith(`${registrationPath}/`)) return;
    const body: unknown = ctx.body;
    if (!isRecord(body) || !('client_secret' in body)) return;
    if (body.client_secret === issuedSecrets.get(ctx.req)) return;
    delete body.client_secret;
    // RFC 7591 §3.2.1: client_secret_expires_at goes with an issued client_secret.
    delete body.client_secret_expires_at;
  };
}
