import type { EntityManager } from 'typeorm';
import { runSql } from './data-source.js';
import type { ConsentRow } from './entities/consent.entity.js';

/** What a user allowed a client: a Grant's OpenID scope, claims and resource scopes. */
export type ConsentInput = Pick<ConsentRow, 'accountId' | 'clientId' | 'scope' | 'claims' | 'resourceScopes'>;

/** An application the user has allowed, as the account page lists it. */
export interface AllowedApplication {
  clientId: string;
  clientName: string;
  scopes: string[];
  resourceScopes: Record<string, string[]>;
  /** When the user first allowed it. */
  since: Date;
}

/** Account ids are users' uuids; anything else names no consent (and must not reach a uuid column). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const words = (scope: string | null | undefined) => (scope ?? '').split(' ').filter(Boolean);

/**
 * Consent remembered per user and client across sessions (docs/decisions.md, "Consent is
 * remembered"). Withdrawing it is `oidc.revokeConsent`, which deletes this row together with
 * the grants, in one statement.
 */
export function createConsentsRepository(db: EntityManager) {
  return {
    async find(accountId: string, clientId: string): Promise<ConsentInput | undefined> {
      if (!UUID.test(accountId)) return undefined;
      const { rows } = await runSql<{ scope: string; claims: string[]; resource_scopes: Record<string, string> }>(
        db,
        'SELECT scope, claims, resource_scopes FROM consents WHERE account_id = $1 AND client_id = $2',
        [accountId, clientId],
      );
      const row = rows[0];
      return row
        ? { accountId, clientId, scope: row.scope, claims: row.claims, resourceScopes: row.resource_scopes }
        : undefined;
    },

    /**
     * Records what the user has now allowed the client (everything, not only what this consent
     * added: the grant it is read from started from the earlier consent). The first time is
     * kept as "since". A user or client deleted meanwhile leaves nothing behind.
     */
    async remember(input: ConsentInput): Promise<void> {
      if (!UUID.test(input.accountId)) return;
      await runSql(
        db,
        `
        INSERT INTO consents (account_id, client_id, scope, claims, resource_scopes)
        SELECT $1::uuid, $2::varchar, $3::text, $4::jsonb, $5::jsonb
        WHERE EXISTS (SELECT 1 FROM users WHERE id = $1::uuid) AND EXISTS (SELECT 1 FROM clients WHERE id = $2::varchar)
        ON CONFLICT (account_id, client_id) DO UPDATE SET
          scope = EXCLUDED.scope, claims = EXCLUDED.claims, resource_scopes = EXCLUDED.resource_scopes, updated_at = now()`,
        [
          input.accountId,
          input.clientId,
          input.scope,
          JSON.stringify(input.claims),
          JSON.stringify(input.resourceScopes),
        ],
      );
    },

    /**
     * The third-party applications the user has allowed, by name. First-party clients never ask
     * for consent, so they are not listed even if one was third party when the user allowed it.
     */
    async listAllowed(accountId: string): Promise<AllowedApplication[]> {
      if (!UUID.test(accountId)) return [];
      const { rows } = await runSql<{
        client_id: string;
        name: string;
        scope: string;
        resource_scopes: Record<string, string>;
        created_at: Date;
      }>(
        db,
        `
        SELECT c.client_id, cl.name, c.scope, c.resource_scopes, c.created_at
        FROM consents c JOIN clients cl ON cl.id = c.client_id
        WHERE c.account_id = $1 AND NOT cl.first_party
        ORDER BY lower(cl.name), c.client_id`,
        [accountId],
      );
      return rows.map((r) => ({
        clientId: r.client_id,
        clientName: r.name,
        scopes: words(r.scope),
        resourceScopes: Object.fromEntries(
          Object.entries(r.resource_scopes ?? {}).map(([indicator, scope]) => [indicator, words(scope)]),
        ),
        since: r.created_at,
      }));
    },
  };
}

export type ConsentsRepository = ReturnType<typeof createConsentsRepository>;
