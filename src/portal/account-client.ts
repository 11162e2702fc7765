import type { ClientsRepository } from '../storage/clients.repository.js';
import { builtInClient } from '../oidc/built-in-client.js';

/** The account pages sign users in through Gatehouse itself, as this first-party client. */
export const ACCOUNT_CLIENT_ID = 'gatehouse-account';
export const accountRedirectUri = (issuer: string) => `${issuer}/account/callback`;

/** Registers (or re-points, when the issuer changed) the account pages' own client at boot. */
export async function ensureAccountClient(clients: ClientsRepository, issuer: string): Promise<void> {
  await clients.upsert(builtInClient({
    id: ACCOUNT_CLIENT_ID, name: 'Your Gatehouse account', redirectUri: accountRedirectUri(issuer), postLogoutRedirectUris: [], mfa: 'optional',
  }));
}
