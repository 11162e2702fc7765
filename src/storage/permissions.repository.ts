import type { EntityManager } from 'typeorm';
import { runSql } from './data-source.js';
import { isUniqueViolation } from './unique-violation.js';
import { ConflictError, NotFoundError } from '../errors/domain-errors.js';

// SQL only: the rules of indicators and permission names are src/permissions/'s. What only the
// database knows comes back as the domain's errors (a taken indicator or name, an unknown row).

/** An API resource defined by an admin (RFC 8707 indicator), whose tokens carry permissions. */
export interface ApiResourceRow {
  id: string;
  indicator: string;
  name: string;
  /** The `aud` of its tokens when it differs from the indicator. */
  audience: string | null;
  accessTokenTtl: number;
  /** Whether its tokens also carry the permissions as a `permissions` array claim. */
  permissionsClaim: boolean;
  createdAt: Date;
}

export interface PermissionRow {
  id: string;
  resourceId: string;
  name: string;
  description: string | null;
  createdAt: Date;
}

/** A permission with the resource it belongs to, as a role's or a client's list shows it. */
export interface HeldPermission {
  resource: string;
  permission: string;
}

/** RFC 8693 per client: what it may exchange, and for what. */
export interface ExchangePolicyRow {
  clientId: string;
  /** Resource indicators the client may ask an exchanged token for. */
  targets: string[];
  /** Audiences of subject tokens issued to other clients that this client may exchange (the APIs it is). */
  subjectAudiences: string[];
  subjectTokenTypes: string[];
  updatedAt: Date;
}

interface ResourceSql {
  id: string;
  indicator: string;
  name: string;
  audience: string | null;
  access_token_ttl: number;
  permissions_claim: boolean;
  created_at: Date;
}
interface PermissionSql {
  id: string;
  resource_id: string;
  name: string;
  description: string | null;
  created_at: Date;
}
interface PolicySql {
  client_id: string;
  targets: string[];
  subject_audiences: string[];
  subject_token_types: string[];
  updated_at: Date;
}

const RESOURCE_COLUMNS = 'id, indicator, name, audience, access_token_ttl, permissions_claim, created_at';
const PERMISSION_COLUMNS = 'id, resource_id, name, description, created_at';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const toResource = (r: ResourceSql): ApiResourceRow => ({
  id: r.id,
  indicator: r.indicator,
  name: r.name,
  audience: r.audience,
  accessTokenTtl: r.access_token_ttl,
  permissionsClaim: r.permissions_claim,
  createdAt: new Date(r.created_at),
});
const toPermission = (r: PermissionSql): PermissionRow => ({
  id: r.id,
  resourceId: r.resource_id,
  name: r.name,
  description: r.description,
  createdAt: new Date(r.created_at),
});
const toPolicy = (r: PolicySql): ExchangePolicyRow => ({
  clientId: r.client_id,
  targets: r.targets,
  subjectAudiences: r.subject_audiences,
  subjectTokenTypes: r.subject_token_types,
  updatedAt: new Date(r.updated_at),
});

/** Who holds permissions: a role (for its users) or a machine client itself (client_credentials). */
export type PermissionHolder = 'role' | 'client';

/** The grant table of each kind of holder (fixed names: never input). */
const HOLDER_TABLES = {
  role: { table: 'role_permissions', column: 'role_id' },
  client: { table: 'client_permissions', column: 'client_id' },
} as const satisfies Record<PermissionHolder, { table: string; column: string }>;

export type NewApiResource = Pick<
  ApiResourceRow,
  'indicator' | 'name' | 'audience' | 'accessTokenTtl' | 'permissionsClaim'
>;

export function createPermissionsRepository(db: EntityManager) {
  const rows = async <T>(sql: string, params: unknown[]) => (await runSql<T>(db, sql, params)).rows;

  const held = async (sql: string, params: unknown[]): Promise<HeldPermission[]> =>
    (await rows<{ indicator: string; name: string }>(sql, params)).map((r) => ({
      resource: r.indicator,
      permission: r.name,
    }));

  return {
    async createResource(input: NewApiResource): Promise<ApiResourceRow> {
      try {
        const [row] = await rows<ResourceSql>(
          `INSERT INTO api_resources (indicator, name, audience, access_token_ttl, permissions_claim)
           VALUES ($1, $2, $3, $4, $5) RETURNING ${RESOURCE_COLUMNS}`,
          [input.indicator, input.name, input.audience, input.accessTokenTtl, input.permissionsClaim],
        );
        if (!row) throw new Error('api_resources: INSERT returned no row');
        return toResource(row);
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError('indicator', `a resource ${input.indicator} exists`);
        throw error;
      }
    },

    async listResources(): Promise<ApiResourceRow[]> {
      return (await rows<ResourceSql>(`SELECT ${RESOURCE_COLUMNS} FROM api_resources ORDER BY indicator`, [])).map(
        toResource,
      );
    },

    async findResource(id: string): Promise<ApiResourceRow | undefined> {
      if (!UUID.test(id)) return undefined;
      const [row] = await rows<ResourceSql>(`SELECT ${RESOURCE_COLUMNS} FROM api_resources WHERE id = $1`, [id]);
      return row ? toResource(row) : undefined;
    },

    async findResourceByIndicator(indicator: string): Promise<ApiResourceRow | undefined> {
      const [row] = await rows<ResourceSql>(`SELECT ${RESOURCE_COLUMNS} FROM api_resources WHERE indicator = $1`, [
        indicator,
      ]);
      return row ? toResource(row) : undefined;
    },

    async updateResource(
      id: string,
      change: Pick<ApiResourceRow, 'name' | 'audience' | 'accessTokenTtl' | 'permissionsClaim'>,
    ): Promise<ApiResourceRow> {
      const [row] = await rows<ResourceSql>(
        `UPDATE api_resources SET name = $2, audience = $3, access_token_ttl = $4, permissions_claim = $5
         WHERE id = $1 RETURNING ${RESOURCE_COLUMNS}`,
        [id, change.name, change.audience, change.accessTokenTtl, change.permissionsClaim],
      );
      if (!row) throw new NotFoundError('resource');
      return toResource(row);
    },

    /** Deletes the resource with its permissions and every grant of them (cascade). */
    async deleteResource(id: string): Promise<void> {
      const { affected } = await runSql(db, 'DELETE FROM api_resources WHERE id = $1', [id]);
      if (affected === 0) throw new NotFoundError('resource');
    },

    async createPermission(resourceId: string, name: string, description: string | null): Promise<PermissionRow> {
      try {
        const [row] = await rows<PermissionSql>(
          `INSERT INTO permissions (resource_id, name, description) VALUES ($1, $2, $3) RETURNING ${PERMISSION_COLUMNS}`,
          [resourceId, name, description],
        );
        if (!row) throw new Error('permissions: INSERT returned no row');
        return toPermission(row);
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError('name', `the resource has a permission "${name}"`);
        throw error;
      }
    },

    async listPermissions(resourceId: string): Promise<PermissionRow[]> {
      return (
        await rows<PermissionSql>(
          `SELECT ${PERMISSION_COLUMNS} FROM permissions WHERE resource_id = $1 ORDER BY name`,
          [resourceId],
        )
      ).map(toPermission);
    },

    async findPermission(resourceId: string, name: string): Promise<PermissionRow | undefined> {
      const [row] = await rows<PermissionSql>(
        `SELECT ${PERMISSION_COLUMNS} FROM permissions WHERE resource_id = $1 AND name = $2`,
        [resourceId, name],
      );
      return row ? toPermission(row) : undefined;
    },

    async deletePermission(permissionId: string): Promise<void> {
      await runSql(db, 'DELETE FROM permissions WHERE id = $1', [permissionId]);
    },

    /** Every permission of every admin-defined resource, for the console's grant forms. */
    allPermissions: (): Promise<HeldPermission[]> =>
      held(
        `SELECT r.indicator, p.name FROM permissions p JOIN api_resources r ON r.id = p.resource_id
         ORDER BY r.indicator, p.name`,
        [],
      ),

    /** Idempotent. */
    async grant(holder: PermissionHolder, holderId: string, permissionId: string): Promise<void> {
      const { table, column } = HOLDER_TABLES[holder];
      await runSql(db, `INSERT INTO ${table} (${column}, permission_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
        holderId,
        permissionId,
      ]);
    },

    /** False when the holder did not hold it. */
    async revoke(holder: PermissionHolder, holderId: string, permissionId: string): Promise<boolean> {
      const { table, column } = HOLDER_TABLES[holder];
      const { affected } = await runSql(db, `DELETE FROM ${table} WHERE ${column} = $1 AND permission_id = $2`, [
        holderId,
        permissionId,
      ]);
      return affected > 0;
    },

    permissionsOf(holder: PermissionHolder, holderId: string): Promise<HeldPermission[]> {
      const { table, column } = HOLDER_TABLES[holder];
      return held(
        `SELECT r.indicator, p.name FROM ${table} h
         JOIN permissions p ON p.id = h.permission_id JOIN api_resources r ON r.id = p.resource_id
         WHERE h.${column} = $1 ORDER BY r.indicator, p.name`,
        [holderId],
      );
    },

    /** The names of the resource's permissions the user's roles grant, at token time. */
    async userPermissionNames(userId: string, resourceId: string): Promise<string[]> {
      const found = await rows<{ name: string }>(
        `SELECT DISTINCT p.name FROM user_roles ur
         JOIN role_permissions rp ON rp.role_id = ur.role_id
         JOIN permissions p ON p.id = rp.permission_id
         WHERE ur.user_id = $1 AND p.resource_id = $2 ORDER BY p.name`,
        [userId, resourceId],
      );
      return found.map((r) => r.name);
    },

    /** The names of the resource's permissions granted to the client itself (client_credentials). */
    async clientPermissionNames(clientId: string, resourceId: string): Promise<string[]> {
      const found = await rows<{ name: string }>(
        `SELECT p.name FROM client_permissions cp JOIN permissions p ON p.id = cp.permission_id
         WHERE cp.client_id = $1 AND p.resource_id = $2 ORDER BY p.name`,
        [clientId, resourceId],
      );
      return found.map((r) => r.name);
    },

    async exchangePolicyOf(clientId: string): Promise<ExchangePolicyRow | undefined> {
      const [row] = await rows<PolicySql>(
        'SELECT client_id, targets, subject_audiences, subject_token_types, updated_at FROM token_exchange_policies WHERE client_id = $1',
        [clientId],
      );
      return row ? toPolicy(row) : undefined;
    },

    async setExchangePolicy(policy: Omit<ExchangePolicyRow, 'updatedAt'>): Promise<ExchangePolicyRow> {
      const [row] = await rows<PolicySql>(
        `INSERT INTO token_exchange_policies (client_id, targets, subject_audiences, subject_token_types)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (client_id) DO UPDATE SET targets = $2, subject_audiences = $3, subject_token_types = $4, updated_at = now()
         RETURNING client_id, targets, subject_audiences, subject_token_types, updated_at`,
        [policy.clientId, policy.targets, policy.subjectAudiences, policy.subjectTokenTypes],
      );
      if (!row) throw new Error('token_exchange_policies: upsert returned no row');
      return toPolicy(row);
    },

    async removeExchangePolicy(clientId: string): Promise<boolean> {
      const { affected } = await runSql(db, 'DELETE FROM token_exchange_policies WHERE client_id = $1', [clientId]);
      return affected > 0;
    },
  };
}

export type PermissionsRepository = ReturnType<typeof createPermissionsRepository>;
