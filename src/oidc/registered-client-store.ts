import Provider, { errors, type AdapterPayload } from 'oidc-provider';
import type { Repositories } from '../storage/storage.js';
import type { ClientRow } from '../storage/entities/client.entity.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import { requestOrigin } from '../http/request-origin.js';
import { hashClientSecret } from '../clients/client-secret.js';
import { referenceOf } from '../storage/initial-access-token-reference.js';

/** What the Client adapter writes through: dynamic registration and its management. */
export interface RegisteredClientStore {
  /** RFC 7591 registration or RFC 7592 §2.2 update, as oidc-provider's `Client.adapter.upsert`. */
  save(clientId: string, payload: AdapterPayload): Promise<void>;
  /** RFC 7592 §2.3 delete, as oidc-provider's `Client.adapter.destroy`. */
  remove(clientId: string): Promise<void>;
}

export interface RegisteredClientStoreDeps {
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  audit: AuditLog;
  /** true: a new client is 'pending' until an admin approves it. */
  requireApproval: boolean;
  /** Called once a write has committed, so the request that wrote does not reuse its earlier read. */
  written?: (clientId: string) => void;
}

/** Fields kept in their own columns, or derived on read (client-metadata.ts), not in `metadata`. */
const NOT_METADATA = new Set(['client_id', 'client_secret', 'client_name']);
const OWN_FIELD_PREFIX = 'gatehouse_';
const MAX_NAME_LENGTH = 200;

/** The request the provider is handling (its AsyncLocalStorage, `Provider.ctx`), for the audit trail. */
function currentOrigin(): RequestOrigin {
  const ctx = Provider.ctx;
  return ctx ? requestOrigin(ctx) : {};
}

/** The reference (never the value) of the initial access token a registration presented. */
function initialAccessTokenReference(): string | null {
  const jti = Provider.ctx?.oidc.entities.InitialAccessToken?.jti;
  return jti ? referenceOf(jti) : null;
}

function refuseAdminClient(row: ClientRow | null): void {
  // Only clients that registered themselves are managed through RFC 7592; a registration
  // access token can never name an admin-created one, but the store refuses it anyway.
  if (row && row.source !== 'registration') {
    throw new errors.InvalidRequest('this client is managed by an administrator', 403);
  }
}

/**
 * The stored secret: oidc-provider hands back on update the value it read from us (the
 * digest, kept as is); any other value is a clear secret its secretFactory just issued,
 * and only its digest is stored (docs/decisions.md, "Client secrets").
 */
function storedSecret(presented: unknown, existing: ClientRow | null): string | null {
  if (typeof presented !== 'string' || !presented) return null;
  if (existing?.secretHash && existing.secretHash === presented) return presented;
  return hashClientSecret(presented);
}

function ownMetadata(payload: AdapterPayload): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(payload).filter(([key]) => !NOT_METADATA.has(key) && !key.startsWith(OWN_FIELD_PREFIX)),
  );
}

export function createRegisteredClientStore(deps: RegisteredClientStoreDeps): RegisteredClientStore {
  return {
    async save(clientId, payload) {
      const origin = currentOrigin();
      await deps.transaction(async (tx) => {
        const existing = await tx.clients.find(clientId);
        refuseAdminClient(existing);
        const name = typeof payload.client_name === 'string' && payload.client_name ? payload.client_name : clientId;
        const status = existing?.status ?? (deps.requireApproval ? 'pending' : 'active');
        await tx.clients.upsert({
          id: clientId,
          name: name.slice(0, MAX_NAME_LENGTH),
          secretHash: storedSecret(payload.client_secret, existing),
          // Never first-party: that is an administrator's decision (registration-policy.ts).
          firstParty: false,
          metadata: ownMetadata(payload),
          status,
          source: 'registration',
        });
        const audit = deps.audit.within(tx);
        if (existing) {
          await audit.record('client.updated', { clientId, details: { via: 'registration_access_token' } }, origin);
        } else {
          await audit.record(
            'client.registered',
            {
              clientId,
              details: { name, status, initialAccessToken: initialAccessTokenReference() },
            },
            origin,
          );
        }
      });
      deps.written?.(clientId);
    },

    async remove(clientId) {
      const origin = currentOrigin();
      await deps.transaction(async (tx) => {
        const existing = await tx.clients.find(clientId);
        if (!existing) return;
        refuseAdminClient(existing);
        await tx.clients.delete(clientId);
        // RFC 7592 §2.3: grants and tokens of a deleted client SHOULD end at once.
        await tx.sessions.revokeClient(clientId);
        await deps.audit
          .within(tx)
          .record('client.deleted', { clientId, details: { via: 'registration_access_token' } }, origin);
      });
      deps.written?.(clientId);
    },
  };
}
