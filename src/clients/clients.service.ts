import type { Repositories, Storage } from '../storage/storage.js';
import type { ClientRow, ClientStatus } from '../storage/entities/client.entity.js';
import type { KeysetPosition, Page } from '../storage/keyset.js';
import type { AuditLog } from '../security/audit.js';
import {
  buildClientMetadata,
  clientInputOf,
  newClientRecord,
  usesClientSecret,
  type ClientInput,
} from './client-registry.js';
import { generateClientSecret, hashClientSecret } from './client-secret.js';
import { ACCOUNT_CLIENT_ID, ADMIN_CONSOLE_CLIENT_ID } from './built-in-client.js';
import { ADMIN_SCOPES_FIELD } from './client-metadata.js';
import { recordAdminAction, type AdminActor } from '../security/admin-actor.js';
import { InvalidInputError, NotFoundError } from '../errors/domain-errors.js';
import type { SectorCheck } from './sector-identifier.js';

/** A pairwise client's sector document is fetched and checked before it is saved (OIDC Core §8.1). */
async function checkSector(check: SectorCheck | undefined, metadata: Record<string, unknown>): Promise<void> {
  const uri = metadata.sector_identifier_uri;
  if (check && typeof uri === 'string') await check(uri, metadata.redirect_uris as string[]);
}

/** Gatehouse's own clients are re-registered at every boot; admins cannot change them. */
const BUILT_IN = new Set([ACCOUNT_CLIENT_ID, ADMIN_CONSOLE_CLIENT_ID]);

/** Whether a change takes away an admin scope, or the client_credentials grant the admin tokens come from. */
function lostAdminPower(before: Record<string, unknown>, after: Record<string, unknown>): boolean {
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  const held = list(after.grant_types).includes('client_credentials') ? list(after[ADMIN_SCOPES_FIELD]) : [];
  return list(before[ADMIN_SCOPES_FIELD]).some((scope) => !held.includes(scope));
}

export interface IssuedClient {
  client: ClientRow;
  /** Shown once; only its digest is stored. */
  clientSecret: string | null;
}

/** The client an admin names by id, or NotFoundError. */
async function clientOrNotFound(repos: Pick<Repositories, 'clients'>, id: string): Promise<ClientRow> {
  const client = await repos.clients.find(id);
  if (!client) throw new NotFoundError('client');
  return client;
}

/** Client administration for the admin API and console: each change audited in its transaction. */
export function createClientsAdmin(deps: { storage: Storage; audit: AuditLog; sectorCheck?: SectorCheck }) {
  const { storage, audit } = deps;

  async function editable(id: string): Promise<ClientRow> {
    const row = await clientOrNotFound(storage, id);
    if (BUILT_IN.has(row.id)) throw new InvalidInputError('client_id', "Gatehouse's own clients cannot be changed");
    return row;
  }

  return {
    page: (options: { status?: ClientStatus; after?: KeysetPosition; limit: number }): Promise<Page<ClientRow>> =>
      storage.clients.page(options),

    get: (id: string): Promise<ClientRow> => clientOrNotFound(storage, id),

    async create(input: ClientInput, actor: AdminActor): Promise<IssuedClient> {
      const { record, clientSecret } = newClientRecord(input);
      await checkSector(deps.sectorCheck, record.metadata);
      const client = await storage.transaction(async (tx) => {
        const created = await tx.clients.create(record);
        await recordAdminAction(audit, tx, actor, 'client.created', {
          details: { client: created.id, name: created.name },
        });
        return created;
      });
      return { client, clientSecret };
    },

    /**
     * Changes some fields; the rest keep their values and the whole is validated again. A
     * client that starts to need a secret gets one (returned once); one that stops loses it.
     */
    async update(id: string, changes: Partial<ClientInput>, actor: AdminActor): Promise<IssuedClient> {
      const row = await editable(id);
      const input: ClientInput = { ...clientInputOf(row), ...changes };
      if (changes.public === true && changes.authMethod === undefined) input.authMethod = 'none';
      if (changes.public === false && changes.authMethod === undefined && input.authMethod === 'none')
        input.authMethod = 'client_secret_basic';
      const { metadata } = buildClientMetadata(input);
      await checkSector(deps.sectorCheck, metadata);
      const needsSecret = usesClientSecret(metadata);
      const clientSecret = needsSecret && !row.secretHash ? generateClientSecret() : null;
      const secretHash = needsSecret ? (clientSecret ? hashClientSecret(clientSecret) : row.secretHash) : null;
      const client = await storage.transaction(async (tx) => {
        await tx.clients.update(id, { name: input.name.trim(), firstParty: input.firstParty, metadata, secretHash });
        // Admin API tokens carry the scopes they were issued with: once the client may hold
        // fewer (or no client_credentials at all), the ones it has end now, not at expiry.
        if (lostAdminPower(row.metadata, metadata)) await tx.sessions.revokeClientCredentials(id);
        await recordAdminAction(audit, tx, actor, 'client.updated', {
          details: { client: id, fields: Object.keys(changes).sort() },
        });
        // Read back on the transaction that wrote it: updated_at as stored.
        return clientOrNotFound(tx, id);
      });
      return { client, clientSecret };
    },

    /** Deletes the client and every grant, session authorization and token it holds. */
    async delete(id: string, actor: AdminActor): Promise<void> {
      const row = await editable(id);
      await storage.transaction(async (tx) => {
        await tx.clients.delete(id);
        await tx.sessions.revokeClient(id);
        await recordAdminAction(audit, tx, actor, 'client.deleted', { details: { client: id, name: row.name } });
      });
    },

    /** A new secret replaces the old one at once (tokens already issued stay valid). */
    async rotateSecret(id: string, actor: AdminActor): Promise<string> {
      const row = await editable(id);
      if (!usesClientSecret(row.metadata))
        throw new InvalidInputError(
          'token_endpoint_auth_method',
          'this client does not authenticate with a client secret',
        );
      const clientSecret = generateClientSecret();
      await storage.transaction(async (tx) => {
        await tx.clients.update(id, { secretHash: hashClientSecret(clientSecret) });
        await recordAdminAction(audit, tx, actor, 'client.secret_rotated', { details: { client: id } });
      });
      return clientSecret;
    },

    /** Lets a dynamically registered client, held for review, obtain tokens. */
    async approve(id: string, actor: AdminActor): Promise<ClientRow> {
      const row = await editable(id);
      if (row.status !== 'pending') throw new InvalidInputError('status', 'this client is not waiting for approval');
      return storage.transaction(async (tx) => {
        await tx.clients.update(id, { status: 'active' });
        await recordAdminAction(audit, tx, actor, 'client.approved', { details: { client: id, name: row.name } });
        return clientOrNotFound(tx, id);
      });
    },

    /** Refuses a pending registration: the client is deleted. */
    async reject(id: string, actor: AdminActor): Promise<void> {
      const row = await editable(id);
      if (row.status !== 'pending') throw new InvalidInputError('status', 'this client is not waiting for approval');
      await storage.transaction(async (tx) => {
        await tx.clients.delete(id);
        // Its registration access token (RFC 7592) and anything else naming it go too.
        await tx.sessions.revokeClient(id);
        await recordAdminAction(audit, tx, actor, 'client.rejected', { details: { client: id, name: row.name } });
      });
    },
  };
}
