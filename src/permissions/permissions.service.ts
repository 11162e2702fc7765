import type { Storage } from '../storage/storage.js';
import type {
  ApiResourceRow,
  ExchangePolicyRow,
  HeldPermission,
  PermissionHolder,
  PermissionRow,
} from '../storage/permissions.repository.js';
import type { AuditLog } from '../security/audit.js';
import { recordAdminAction, type AdminActor } from '../security/admin-actor.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors/domain-errors.js';
import {
  SUBJECT_TOKEN_TYPES,
  checkIndicator,
  checkPermissionDescription,
  checkPermissionName,
  checkResourceName,
  checkTokenTtl,
} from './permission-fields.js';

export interface ResourceInput {
  indicator: string;
  name: string;
  audience?: string | null;
  accessTokenTtl?: number;
  permissionsClaim?: boolean;
}

export interface ExchangePolicyInput {
  targets: string[];
  subjectAudiences?: string[];
  subjectTokenTypes?: string[];
}

/** A resource with its permissions, as the API and CLI show it. */
export type ResourceWithPermissions = ApiResourceRow & { permissions: PermissionRow[] };

/**
 * API resources and their permissions (issue 19, docs/roles.md). `reserved` are the indicators
 * that are not ours to define: the resources of `config.resources` (kept there, scopes only)
 * and the admin API. Every change is audited in its transaction; grants take effect in the
 * next token, which reads them at the token endpoint.
 */
export function createPermissionsAdmin(deps: {
  storage: Storage;
  audit: AuditLog;
  reserved: readonly string[];
  defaultTokenTtl: number;
}) {
  const { storage, audit } = deps;

  async function resourceOrNotFound(id: string): Promise<ApiResourceRow> {
    const resource = await storage.permissions.findResource(id);
    if (!resource) throw new NotFoundError('resource');
    return resource;
  }

  /** A resource named by its id or its indicator (the CLI types indicators). */
  async function resolve(idOrIndicator: string): Promise<ApiResourceRow> {
    const resource =
      (await storage.permissions.findResource(idOrIndicator)) ??
      (await storage.permissions.findResourceByIndicator(idOrIndicator));
    if (!resource) throw new NotFoundError('resource');
    return resource;
  }

  async function permissionOrNotFound(resource: ApiResourceRow, name: string): Promise<PermissionRow> {
    const permission = await storage.permissions.findPermission(resource.id, name);
    if (!permission) throw new NotFoundError('permission');
    return permission;
  }

  async function roleOrNotFound(name: string) {
    const role = await storage.roles.findByName(name);
    if (!role) throw new NotFoundError('role');
    return role;
  }

  async function clientOrNotFound(id: string) {
    const client = await storage.clients.find(id);
    if (!client) throw new NotFoundError('client');
    return client;
  }

  /** A role by name or a client by id, with what its audit rows call it. */
  async function holderOrNotFound(holder: PermissionHolder, key: string) {
    if (holder === 'role') {
      const role = await roleOrNotFound(key);
      return { id: role.id, details: { role: role.name } };
    }
    const client = await clientOrNotFound(key);
    return { id: client.id, details: { client_id: client.id } };
  }

  async function changeGrant(
    change: 'granted' | 'revoked',
    holder: PermissionHolder,
    key: string,
    resourceId: string,
    name: string,
    actor: AdminActor,
  ): Promise<HeldPermission[]> {
    const found = await holderOrNotFound(holder, key);
    const resource = await resolve(resourceId);
    const permission = await permissionOrNotFound(resource, name);
    return storage.transaction(async (tx) => {
      if (change === 'granted') await tx.permissions.grant(holder, found.id, permission.id);
      else if (!(await tx.permissions.revoke(holder, found.id, permission.id)))
        throw new NotFoundError(`${holder} permission`);
      await recordAdminAction(audit, tx, actor, `${holder}.permission_${change}`, {
        details: { ...found.details, resource: resource.indicator, permission: name },
      });
      return tx.permissions.permissionsOf(holder, found.id);
    });
  }

  const audience = (value: string | null | undefined): string | null => {
    const v = value?.trim() || null;
    if (v && v.length > 2000) throw new InvalidInputError('audience', 'must be at most 2000 characters');
    return v;
  };

  return {
    listResources: (): Promise<ApiResourceRow[]> => storage.permissions.listResources(),

    async getResource(idOrIndicator: string): Promise<ResourceWithPermissions> {
      const resource = await resolve(idOrIndicator);
      return { ...resource, permissions: await storage.permissions.listPermissions(resource.id) };
    },

    createResource: (input: ResourceInput, actor: AdminActor): Promise<ApiResourceRow> => {
      const indicator = checkIndicator('indicator', input.indicator);
      if (deps.reserved.includes(indicator))
        throw new ConflictError('indicator', `${indicator} is defined in the configuration or is the admin API`);
      const values = {
        indicator,
        name: checkResourceName(input.name),
        audience: audience(input.audience),
        accessTokenTtl: checkTokenTtl(input.accessTokenTtl ?? deps.defaultTokenTtl),
        permissionsClaim: input.permissionsClaim === true,
      };
      return storage.transaction(async (tx) => {
        const resource = await tx.permissions.createResource(values);
        await recordAdminAction(audit, tx, actor, 'resource.created', { details: { resource: indicator } });
        return resource;
      });
    },

    async updateResource(
      id: string,
      change: Partial<Omit<ResourceInput, 'indicator'>>,
      actor: AdminActor,
    ): Promise<ApiResourceRow> {
      const current = await resourceOrNotFound(id);
      const next = {
        name: change.name === undefined ? current.name : checkResourceName(change.name),
        audience: change.audience === undefined ? current.audience : audience(change.audience),
        accessTokenTtl:
          change.accessTokenTtl === undefined ? current.accessTokenTtl : checkTokenTtl(change.accessTokenTtl),
        permissionsClaim: change.permissionsClaim ?? current.permissionsClaim,
      };
      return storage.transaction(async (tx) => {
        const resource = await tx.permissions.updateResource(id, next);
        await recordAdminAction(audit, tx, actor, 'resource.updated', {
          details: { resource: resource.indicator, fields: Object.keys(change) },
        });
        return resource;
      });
    },

    async deleteResource(id: string, actor: AdminActor): Promise<void> {
      const resource = await resourceOrNotFound(id);
      await storage.transaction(async (tx) => {
        await tx.permissions.deleteResource(resource.id);
        await recordAdminAction(audit, tx, actor, 'resource.deleted', { details: { resource: resource.indicator } });
      });
    },

    async createPermission(
      resourceId: string,
      input: { name: string; description?: string | null },
      actor: AdminActor,
    ): Promise<PermissionRow> {
      const resource = await resolve(resourceId);
      const name = checkPermissionName(input.name);
      const description = checkPermissionDescription(input.description);
      return storage.transaction(async (tx) => {
        const permission = await tx.permissions.createPermission(resource.id, name, description);
        await recordAdminAction(audit, tx, actor, 'permission.created', {
          details: { resource: resource.indicator, permission: name },
        });
        return permission;
      });
    },

    async deletePermission(resourceId: string, name: string, actor: AdminActor): Promise<void> {
      const resource = await resolve(resourceId);
      const permission = await permissionOrNotFound(resource, name);
      await storage.transaction(async (tx) => {
        await tx.permissions.deletePermission(permission.id);
        await recordAdminAction(audit, tx, actor, 'permission.deleted', {
          details: { resource: resource.indicator, permission: name },
        });
      });
    },

    /** Every permission of every resource, as `{ resource: indicator, permission }`. */
    allPermissions: (): Promise<HeldPermission[]> => storage.permissions.allPermissions(),

    /** What a role (named) or a machine client (by id) holds. */
    async permissionsOf(holder: PermissionHolder, key: string): Promise<HeldPermission[]> {
      return storage.permissions.permissionsOf(holder, (await holderOrNotFound(holder, key)).id);
    },

    /** Idempotent; answers what the holder holds afterwards. */
    grant: (holder: PermissionHolder, key: string, resourceId: string, name: string, actor: AdminActor) =>
      changeGrant('granted', holder, key, resourceId, name, actor),

    /** Not holding it is a 404; answers what the holder holds afterwards. */
    revoke: (holder: PermissionHolder, key: string, resourceId: string, name: string, actor: AdminActor) =>
      changeGrant('revoked', holder, key, resourceId, name, actor),

    async exchangePolicyOf(clientId: string): Promise<ExchangePolicyRow> {
      await clientOrNotFound(clientId);
      const policy = await storage.permissions.exchangePolicyOf(clientId);
      if (!policy) throw new NotFoundError('token exchange policy');
      return policy;
    },

    /**
     * Which resources the client may exchange a user's token for, and whose tokens it may
     * present: its own, and those of the audiences listed (the APIs this client is).
     */
    async setExchangePolicy(clientId: string, input: ExchangePolicyInput, actor: AdminActor) {
      const client = await clientOrNotFound(clientId);
      const targets = [...new Set(input.targets)];
      if (targets.length === 0) throw new InvalidInputError('targets', 'at least one resource is needed');
      for (const target of targets) {
        if (!(await storage.permissions.findResourceByIndicator(target)))
          throw new InvalidInputError('targets', `${target} is not a resource defined by an admin`);
      }
      const subjectAudiences = [...new Set(input.subjectAudiences ?? [])].map((a) => {
        if (a.length === 0 || a.length > 2000)
          throw new InvalidInputError('subject_audiences', 'each must be 1 to 2000 characters');
        return a;
      });
      const types = [...new Set(input.subjectTokenTypes ?? [...SUBJECT_TOKEN_TYPES])];
      const badType = types.find((t) => !(SUBJECT_TOKEN_TYPES as readonly string[]).includes(t));
      if (badType !== undefined || types.length === 0)
        throw new InvalidInputError('subject_token_types', `only ${SUBJECT_TOKEN_TYPES.join(', ')} is supported`);
      return storage.transaction(async (tx) => {
        const policy = await tx.permissions.setExchangePolicy({
          clientId: client.id,
          targets,
          subjectAudiences,
          subjectTokenTypes: types,
        });
        await recordAdminAction(audit, tx, actor, 'token_exchange.policy_set', {
          details: { client_id: client.id, targets, subject_audiences: subjectAudiences },
        });
        return policy;
      });
    },

    async removeExchangePolicy(clientId: string, actor: AdminActor): Promise<void> {
      const client = await clientOrNotFound(clientId);
      await storage.transaction(async (tx) => {
        if (!(await tx.permissions.removeExchangePolicy(client.id))) throw new NotFoundError('token exchange policy');
        await recordAdminAction(audit, tx, actor, 'token_exchange.policy_removed', {
          details: { client_id: client.id },
        });
      });
    },
  };
}
