import Provider from 'oidc-provider';
import type { Alongside, FoundWithRelated } from '../storage/oidc-payload.repository.js';
import type { RequestClientReads } from './request-client-reads.js';
import type { RequestUserReads } from './request-user-reads.js';

/**
 * Which rows a provider request reads right after it found a token, so the token lookup can
 * bring them in the same statement: userinfo reads the token's client and then its account;
 * the token endpoint (code exchange, refresh) has read its client already (client
 * authentication) and reads the account for the ID token. Introspection and revocation read
 * neither. Each saves a PostgreSQL round trip (docs/decisions.md, "Performance").
 */
export interface TokenLookupAlongside {
  /** What the current provider request will read next. */
  wanted(): Alongside;
  /** Hands the rows the lookup brought to the request's client and user reads. */
  remember(found: FoundWithRelated): void;
}

const NOTHING: Alongside = { client: false, user: false };
const BY_ROUTE: Record<string, Alongside> = {
  userinfo: { client: true, user: true },
  token: { client: false, user: true },
};

export function tokenLookupAlongside(clients: Pick<RequestClientReads, 'remember'>, users: Pick<RequestUserReads, 'remember'>): TokenLookupAlongside {
  return {
    wanted: () => BY_ROUTE[Provider.ctx?.oidc?.route ?? ''] ?? NOTHING,
    remember(found) {
      for (const [id, row] of found.clients) clients.remember(id, row);
      for (const [id, row] of found.users) users.remember(id, row);
    },
  };
}
