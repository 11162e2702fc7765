import type { Context, Next } from 'koa';
import { decodeJwt } from 'jose';
import type { ClientStatus } from '../storage/entities/client.entity.js';
import { AppError } from '../http/errors.js';
import { readFormBody, type FormBody } from '../http/request-body.js';
import { basicCredentials } from './client-secret.js';

export interface PendingClientPaths {
  /** The authorization endpoint: a pending client gets a page a person can read. */
  authorization: string;
  /** Endpoints where clients authenticate (token, PAR, introspection, revocation): JSON. */
  clientAuth: readonly string[];
}

const single = (value: string | string[] | undefined): string | undefined =>
  typeof value === 'string' && value ? value : undefined;

/**
 * RFC 7523 §3: a client assertion's `sub` is the client id. Decoded without verifying:
 * the id only selects the status to read, and oidc-provider verifies the assertion after us.
 */
function assertionSubject(assertion: string | undefined): string | undefined {
  if (!assertion) return undefined;
  try {
    const { sub } = decodeJwt(assertion);
    return typeof sub === 'string' && sub ? sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The client a request authenticating at the token, PAR, introspection or revocation endpoint
 * names: HTTP Basic, the form's client_id, or the subject of a private_key_jwt assertion.
 * Not authenticated yet: who the request claims to be.
 */
export async function clientIdAtClientAuth(ctx: Context): Promise<string | undefined> {
  const authorization = ctx.get('authorization');
  const basic = authorization ? basicCredentials(authorization) : undefined;
  if (basic) return basic.clientId || undefined;
  const form: FormBody | undefined = await readFormBody(ctx);
  if (!form) return undefined;
  return single(form.client_id) ?? assertionSubject(single(form.client_assertion));
}

async function clientIdAtAuthorization(ctx: Context): Promise<string | undefined> {
  if (ctx.method === 'GET') return single(ctx.query.client_id);
  // OIDC Core §3.1.2.1: the authorization request may also be a form POST.
  if (ctx.method === 'POST') return single((await readFormBody(ctx))?.client_id);
  return undefined;
}

/**
 * A dynamically registered client waits for an administrator's approval ('pending') before
 * it may obtain anything. oidc-provider has no notion of a disabled client, so this runs
 * in front of it: it reads the client's row, which the provider then reuses for the same request
 * (request-client-reads.ts), on these paths.
 * An unknown client id is left to the provider, which answers as it always does.
 */
export function refusePendingClients(
  statusOf: (clientId: string, request: Context) => Promise<ClientStatus | undefined>,
  paths: PendingClientPaths,
) {
  return async function refusePendingClientsMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.path === paths.authorization) {
      const clientId = await clientIdAtAuthorization(ctx);
      if (clientId && (await statusOf(clientId, ctx)) === 'pending') {
        // Not redirected to the client (RFC 6749 §4.1.2.1 allows no redirect for a client the
        // server will not serve): the user sees why on our error page.
        throw new AppError('client_pending', 400, 'errors.clientPending');
      }
      return next();
    }
    if (ctx.method === 'POST' && paths.clientAuth.includes(ctx.path)) {
      const clientId = await clientIdAtClientAuth(ctx);
      if (clientId && (await statusOf(clientId, ctx)) === 'pending') {
        // RFC 6749 §5.2: a token-endpoint error is JSON whatever the Accept header says, so it
        // is answered here rather than by the HTML-or-JSON error handler.
        ctx.status = 401;
        ctx.set('Cache-Control', 'no-store');
        if (ctx.get('authorization')) ctx.set('WWW-Authenticate', 'Basic realm="gatehouse"');
        ctx.body = { error: 'invalid_client', error_description: "client is waiting for an administrator's approval" };
        return;
      }
    }
    return next();
  };
}
