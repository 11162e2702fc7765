import type { Context, Next } from 'koa';
import type { Storage } from '../storage/storage.js';
import { readFormBody } from '../http/request-body.js';

/**
 * Grants that write a single token and consume nothing: there is nothing to keep together,
 * and the transaction would cost two more round trips (BEGIN, COMMIT) per token.
 */
const SINGLE_WRITE_GRANTS: ReadonlySet<string> = new Set(['client_credentials']);

/**
 * Mounted in front of oidc-provider: a token request (a refresh-token rotation, a code's
 * redemption) runs in one database transaction, so the consumed token and the tokens issued
 * for it commit together, before the response leaves. A server error (the database gone
 * mid-request) rolls it all back and the client's token still works; a refusal (a replay,
 * which revokes the grant) is kept. A crash before the commit leaves nothing half-done:
 * PostgreSQL rolls back a transaction whose connection drops.
 */
export function runTokenRequestsInOneTransaction(storage: Pick<Storage, 'inRequestTransaction'>, tokenPath: string) {
  return async function tokenRequestInOneTransaction(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'POST' || ctx.path !== tokenPath) return next();
    // Read once already by the client checks in front (pending-clients.ts), so this costs nothing.
    const grantType = (await readFormBody(ctx))?.grant_type;
    if (typeof grantType === 'string' && SINGLE_WRITE_GRANTS.has(grantType)) return next();
    await storage.inRequestTransaction(
      () => next(),
      () => ctx.status < 500,
    );
  };
}
