import type { Storage } from '../storage/storage.js';
import type { ConnectionRow } from '../storage/entities/connection.entity.js';
import type { ConnectionValues } from '../storage/connections.repository.js';
import type { SecretBox } from '../security/secret-box.js';
import type { AuditLog } from '../security/audit.js';
import { recordAdminAction, type AdminActor } from '../security/admin-actor.js';
import { InvalidInputError, NotFoundError } from '../errors/domain-errors.js';
import { parseConnectionInput, type Connection, type ConnectionInput } from './connection.js';
import { upstreamSettings, usesPrivateKey, type UpstreamSettings } from './presets.js';

/** Which kind of secret a row holds: a settings change that needs the other kind needs a new one. */
type SecretKind = 'client_secret' | 'private_key';

/** The secret is bound to its connection: a sealed value copied to another row does not open. */
const sealContext = (id: string) => `connection:${id}:secret`;

/** The fields a row keeps in `settings` (everything the domain validates that storage never queries). */
type StoredSettings = Omit<
  Connection,
  'id' | 'displayName' | 'preset' | 'enabled' | 'order' | 'kind' | 'hasSecret' | 'createdAt' | 'updatedAt'
> & { secretKind: SecretKind | null };

function toConnection(row: ConnectionRow): Connection {
  const { secretKind: _secretKind, ...settings } = row.settings as StoredSettings;
  return {
    ...settings,
    id: row.id,
    displayName: row.displayName,
    preset: row.preset as Connection['preset'],
    kind: row.kind,
    enabled: row.enabled,
    order: row.position,
    hasSecret: row.secretSealed !== null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** What an update may leave out: everything; the secret and key are kept unless given. */
export type ConnectionChanges = Partial<Omit<ConnectionInput, 'id'>>;

/** A connection ready for an exchange: its settings resolved, its secret opened. */
export interface OpenedConnection {
  connection: Connection;
  settings: UpstreamSettings;
  secret: string | null;
}

/**
 * Connections (issue 17) for the admin API, console and CLI: validated, the secret or private
 * key sealed with the key-encryption secret, never returned; every change audited in the
 * transaction that makes it.
 */
export function createConnectionsService(deps: { storage: Storage; box: SecretBox; audit: AuditLog }) {
  const { storage, box, audit } = deps;

  /** The input checked field by field and across fields; the row to write. */
  async function validate(input: unknown, current: ConnectionRow | null): Promise<ConnectionValues> {
    const { settings, secret } = parseConnectionInput(input);
    const { id, displayName, preset, enabled, order, clientSecret, privateKey, kind: _kind, ...rest } = settings;
    const storedKind = (current?.settings as StoredSettings | undefined)?.secretKind ?? null;
    const resolved = upstreamSettings({
      ...rest,
      id,
      displayName,
      preset,
      enabled,
      order,
      kind: settings.kind,
      hasSecret: secret !== undefined || (current?.secretSealed ?? null) !== null,
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    const needs: SecretKind = usesPrivateKey(resolved) ? 'private_key' : 'client_secret';
    if (needs === 'private_key' && clientSecret !== undefined)
      throw new InvalidInputError('client_secret', `is not used with ${resolved.clientAuth} (give private_key)`);
    if (needs === 'client_secret' && privateKey !== undefined)
      throw new InvalidInputError('private_key', `is not used with ${resolved.clientAuth} (give client_secret)`);
    if (secret === undefined && current?.secretSealed && storedKind !== needs)
      throw new InvalidInputError(needs, `is required: the connection now authenticates with ${resolved.clientAuth}`);
    for (const [index, rule] of rest.roleRules.entries()) {
      if (!(await storage.roles.findByName(rule.role)))
        throw new InvalidInputError(`role_rules.${index}.role`, `there is no role "${rule.role}"`);
    }
    const stored: StoredSettings = { ...rest, secretKind: secret !== undefined ? needs : storedKind };
    return {
      id,
      displayName,
      preset,
      kind: resolved.kind,
      enabled,
      position: order,
      settings: stored as unknown as Record<string, unknown>,
      secretSealed: secret !== undefined ? box.seal(secret, sealContext(id)) : (current?.secretSealed ?? null),
    };
  }

  async function row(id: string): Promise<ConnectionRow> {
    const found = await storage.connections.findById(id);
    if (!found) throw new NotFoundError('connection');
    return found;
  }

  /** The input an update starts from: the connection as it is, without its secret. */
  function asInput(current: Connection): ConnectionInput {
    const { hasSecret: _h, createdAt: _c, updatedAt: _u, kind, preset, ...rest } = current;
    return { ...rest, preset, ...(preset === 'custom' ? { kind } : {}) };
  }

  return {
    list: async (): Promise<Connection[]> => (await storage.connections.list()).map(toConnection),

    get: async (id: string): Promise<Connection> => toConnection(await row(id)),

    /** For the federation service: null when there is no such connection. */
    async open(id: string): Promise<OpenedConnection | null> {
      const found = await storage.connections.findById(id);
      if (!found) return null;
      const connection = toConnection(found);
      return {
        connection,
        settings: upstreamSettings(connection),
        secret: found.secretSealed ? box.open(found.secretSealed, sealContext(found.id)) : null,
      };
    },

    async create(input: ConnectionInput, actor: AdminActor): Promise<Connection> {
      const values = await validate(input, null);
      return storage.transaction(async (tx) => {
        const created = await tx.connections.create(values);
        await recordAdminAction(audit, tx, actor, 'connection.created', {
          details: { connection: created.id, preset: created.preset },
        });
        return toConnection(created);
      });
    },

    /** Changes the given fields; the rest, the secret included, stay as they are. */
    async update(id: string, changes: ConnectionChanges, actor: AdminActor): Promise<Connection> {
      const current = await row(id);
      const values = await validate({ ...asInput(toConnection(current)), ...changes, id }, current);
      return storage.transaction(async (tx) => {
        if (!(await tx.connections.update(values))) throw new NotFoundError('connection');
        await recordAdminAction(audit, tx, actor, 'connection.updated', {
          details: {
            connection: id,
            fields: Object.keys(changes)
              .filter((k) => k !== 'clientSecret' && k !== 'privateKey')
              .sort(),
            secretChanged: 'clientSecret' in changes || 'privateKey' in changes,
          },
        });
        return toConnection((await tx.connections.findById(id)) ?? current);
      });
    },

    /** Deletes the connection and every identity linked through it. */
    async delete(id: string, actor: AdminActor): Promise<void> {
      await storage.transaction(async (tx) => {
        if (!(await tx.connections.delete(id))) throw new NotFoundError('connection');
        await recordAdminAction(audit, tx, actor, 'connection.deleted', { details: { connection: id } });
      });
    },
  };
}

export type ConnectionsService = ReturnType<typeof createConnectionsService>;
