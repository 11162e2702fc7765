import type { Context } from 'koa';
import type { ClientsRepository } from '../../storage/clients.repository.js';
import { ACCOUNT_CLIENT_ID, builtInClient } from '../../clients/built-in-client.js';
import type { RequestOrigin } from '../../security/audit.js';
import { requestOrigin } from '../../http/request-origin.js';

/** The account pages sign users in through Gatehouse itself, as a first-party client (ACCOUNT_CLIENT_ID). */
export const accountRedirectUri = (issuer: string) => `${issuer}/account/callback`;

/** Where an account-page request came from; its security events name this client. */
export function accountOrigin(ctx: Context): RequestOrigin {
  return { ...requestOrigin(ctx), clientId: ACCOUNT_CLIENT_ID };
}

/** Registers (or re-points, when the issuer changed) the account pages' own client at boot. */
export async function ensureAccountClient(
  clients: ClientsRepository,
  issuer: string,
  productName: string,
): Promise<void> {
  await clients.upsert(
    builtInClient({
      id: ACCOUNT_CLIENT_ID,
      name: `Your ${productName} account`,
      redirectUri: accountRedirectUri(issuer),
      postLogoutRedirectUris: [],
      mfa: 'optional',
    }),
  );
}
