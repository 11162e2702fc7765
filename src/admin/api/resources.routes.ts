import { z } from 'zod';
import type { ApiResourceRow, HeldPermission, PermissionRow } from '../../storage/permissions.repository.js';
import type { AdminServices } from '../services.js';
import { idParams, iso, timestamp } from './common.js';
import { defineRoute } from './route.js';

const resourceView = z.object({
  id: z.string(),
  indicator: z.string(),
  name: z.string(),
  audience: z.string().nullable(),
  access_token_ttl: z.number().int(),
  permissions_claim: z.boolean(),
  created_at: timestamp,
});
const permissionView = z.object({ name: z.string(), description: z.string().nullable(), created_at: timestamp });
const heldView = z.object({ resource: z.string(), permission: z.string() });

const viewResource = (r: ApiResourceRow): z.input<typeof resourceView> => ({
  id: r.id,
  indicator: r.indicator,
  name: r.name,
  audience: r.audience,
  access_token_ttl: r.accessTokenTtl,
  permissions_claim: r.permissionsClaim,
  created_at: iso(r.createdAt) ?? '',
});
const viewPermission = (p: PermissionRow): z.input<typeof permissionView> => ({
  name: p.name,
  description: p.description,
  created_at: iso(p.createdAt) ?? '',
});
const viewHeld = (held: HeldPermission[]) => held.map((h) => ({ resource: h.resource, permission: h.permission }));

const resourceFields = {
  name: z.string().min(1).max(200),
  audience: z.string().max(2000).nullable().optional(),
  access_token_ttl: z.number().int().optional().describe('Seconds (60–86400); default ttl.accessToken.'),
  permissions_claim: z.boolean().optional().describe('Also put the permissions in a `permissions` claim.'),
};
const permissionParams = idParams.extend({ permission: z.string().min(1).max(100) });
const grantBody = z.strictObject({
  resource: z.string().min(1).max(2000).describe('The resource id or indicator.'),
  permission: z.string().min(1).max(100),
});
const roleParams = z.strictObject({ name: z.string().min(1).max(100) });
const rolePermissionParams = roleParams.extend({ permission: z.string().min(1).max(100) });
// DELETE carries no body: the resource goes in the query.
const resourceQuery = z.strictObject({
  resource: z.string().min(1).max(2000).describe('The resource id or indicator.'),
});
const rolePermissions = z.object({ role: z.string(), permissions: z.array(heldView) });
const clientPermissions = z.object({ client_id: z.string(), permissions: z.array(heldView) });

/** API resources, their permissions, and who holds them (docs/roles.md, "Permissions"). */
export function resourceRoutes(admin: AdminServices) {
  const { permissions } = admin;
  return [
    defineRoute({
      method: 'get',
      path: '/resources',
      tag: 'resources',
      scope: 'admin:read',
      summary: 'List API resources defined by admins (those in the configuration are not listed)',
      status: 200,
      response: z.object({ items: z.array(resourceView) }),
      handler: async () => ({ items: (await permissions.listResources()).map(viewResource) }),
    }),
    defineRoute({
      method: 'post',
      path: '/resources',
      tag: 'resources',
      scope: 'admin:write',
      summary: 'Define an API resource (an RFC 8707 resource indicator)',
      conflicts: true,
      body: z.strictObject({ indicator: z.string().min(1).max(2000), ...resourceFields }),
      status: 201,
      response: resourceView,
      handler: async ({ body, actor }) =>
        viewResource(
          await permissions.createResource(
            {
              indicator: body.indicator,
              name: body.name,
              audience: body.audience,
              accessTokenTtl: body.access_token_ttl,
              permissionsClaim: body.permissions_claim,
            },
            actor,
          ),
        ),
    }),
    defineRoute({
      method: 'get',
      path: '/resources/:id',
      tag: 'resources',
      scope: 'admin:read',
      summary: 'Read a resource and its permissions',
      params: idParams,
      status: 200,
      response: resourceView.extend({ permissions: z.array(permissionView) }),
      async handler({ params }) {
        const resource = await permissions.getResource(params.id);
        return { ...viewResource(resource), permissions: resource.permissions.map(viewPermission) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/resources/:id',
      tag: 'resources',
      scope: 'admin:write',
      summary: "Change a resource's name, audience, token lifetime or permissions claim (not its indicator)",
      params: idParams,
      body: z.strictObject({ ...resourceFields, name: resourceFields.name.optional() }),
      status: 200,
      response: resourceView,
      handler: async ({ params, body, actor }) =>
        viewResource(
          await permissions.updateResource(
            params.id,
            {
              ...(body.name !== undefined ? { name: body.name } : {}),
              ...(body.audience !== undefined ? { audience: body.audience } : {}),
              ...(body.access_token_ttl !== undefined ? { accessTokenTtl: body.access_token_ttl } : {}),
              ...(body.permissions_claim !== undefined ? { permissionsClaim: body.permissions_claim } : {}),
            },
            actor,
          ),
        ),
    }),
    defineRoute({
      method: 'delete',
      path: '/resources/:id',
      tag: 'resources',
      scope: 'admin:write',
      summary: 'Delete a resource, its permissions and every grant of them',
      params: idParams,
      status: 204,
      handler: async ({ params, actor }) => {
        await permissions.deleteResource(params.id, actor);
        return undefined;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/resources/:id/permissions',
      tag: 'resources',
      scope: 'admin:write',
      summary: 'Add a permission to a resource',
      conflicts: true,
      params: idParams,
      body: z.strictObject({
        name: z.string().min(1).max(100),
        description: z.string().max(500).nullable().optional(),
      }),
      status: 201,
      response: permissionView,
      handler: async ({ params, body, actor }) =>
        viewPermission(await permissions.createPermission(params.id, body, actor)),
    }),
    defineRoute({
      method: 'delete',
      path: '/resources/:id/permissions/:permission',
      tag: 'resources',
      scope: 'admin:write',
      summary: 'Delete a permission and every grant of it',
      params: permissionParams,
      status: 204,
      handler: async ({ params, actor }) => {
        await permissions.deletePermission(params.id, params.permission, actor);
        return undefined;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/roles/:name/permissions',
      tag: 'resources',
      scope: 'admin:read',
      summary: 'List the permissions a role grants',
      params: roleParams,
      status: 200,
      response: rolePermissions,
      handler: async ({ params }) => ({
        role: params.name,
        permissions: viewHeld(await permissions.permissionsOfRole(params.name)),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/roles/:name/permissions',
      tag: 'resources',
      scope: 'admin:write',
      summary: 'Let a role grant a permission (idempotent)',
      params: roleParams,
      body: grantBody,
      status: 200,
      response: rolePermissions,
      handler: async ({ params, body, actor }) => ({
        role: params.name,
        permissions: viewHeld(await permissions.grantToRole(params.name, body.resource, body.permission, actor)),
      }),
    }),
    defineRoute({
      method: 'delete',
      path: '/roles/:name/permissions/:permission',
      tag: 'resources',
      scope: 'admin:write',
      summary: 'Stop a role granting a permission',
      params: rolePermissionParams,
      query: resourceQuery,
      status: 200,
      response: rolePermissions,
      handler: async ({ params, query, actor }) => ({
        role: params.name,
        permissions: viewHeld(await permissions.revokeFromRole(params.name, query.resource, params.permission, actor)),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/clients/:id/permissions',
      tag: 'resources',
      scope: 'admin:read',
      summary: 'List the permissions granted to a machine client itself (client_credentials)',
      params: idParams,
      status: 200,
      response: clientPermissions,
      handler: async ({ params }) => ({
        client_id: params.id,
        permissions: viewHeld(await permissions.permissionsOfClient(params.id)),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/clients/:id/permissions',
      tag: 'resources',
      scope: 'admin:write',
      summary: 'Grant a permission to a client itself (idempotent)',
      params: idParams,
      body: grantBody,
      status: 200,
      response: clientPermissions,
      handler: async ({ params, body, actor }) => ({
        client_id: params.id,
        permissions: viewHeld(await permissions.grantToClient(params.id, body.resource, body.permission, actor)),
      }),
    }),
    defineRoute({
      method: 'delete',
      path: '/clients/:id/permissions/:permission',
      tag: 'resources',
      scope: 'admin:write',
      summary: 'Take a permission from a client',
      params: permissionParams,
      query: resourceQuery,
      status: 200,
      response: clientPermissions,
      handler: async ({ params, query, actor }) => ({
        client_id: params.id,
        permissions: viewHeld(await permissions.revokeFromClient(params.id, query.resource, params.permission, actor)),
      }),
    }),
  ];
}
