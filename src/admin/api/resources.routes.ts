import { z } from 'zod';
import type {
  ApiResourceRow,
  HeldPermission,
  PermissionHolder,
  PermissionRow,
} from '../../storage/permissions.repository.js';
import type { AdminServices } from '../services.js';
import { idParams, iso, timestamp } from './common.js';
import { defineRoute } from './route.js';
import { resourceSettings } from '../../permissions/permission-fields.js';

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
  ...resourceSettings(r),
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
// DELETE carries no body: the resource goes in the query.
const resourceQuery = z.strictObject({
  resource: z.string().min(1).max(2000).describe('The resource id or indicator.'),
});

/**
 * The three routes of one kind of permission holder (list, grant, revoke), the same for roles
 * and machine clients: only the path, its key and the words differ.
 */
interface HolderSpec {
  holder: PermissionHolder;
  /** The path is `/<collection>/:<keyParam>/permissions`; the response names the key `keyField`. */
  collection: string;
  keyParam: 'name' | 'id';
  keyField: string;
  keySchema: z.ZodString;
  listSummary: string;
  grantSummary: string;
  revokeSummary: string;
}

const ROLE_HOLDER: HolderSpec = {
  holder: 'role',
  collection: 'roles',
  keyParam: 'name',
  keyField: 'role',
  keySchema: z.string().min(1).max(100),
  listSummary: 'List the permissions a role grants',
  grantSummary: 'Let a role grant a permission (idempotent)',
  revokeSummary: 'Stop a role granting a permission',
};
const CLIENT_HOLDER: HolderSpec = {
  holder: 'client',
  collection: 'clients',
  keyParam: 'id',
  keyField: 'client_id',
  keySchema: idParams.shape.id,
  listSummary: 'List the permissions granted to a machine client itself (client_credentials)',
  grantSummary: 'Grant a permission to a client itself (idempotent)',
  revokeSummary: 'Take a permission from a client',
};

function holderRoutes({ permissions }: AdminServices, spec: HolderSpec) {
  const params = z.strictObject({ [spec.keyParam]: spec.keySchema });
  const withPermission = params.extend({ permission: z.string().min(1).max(100) });
  const response = z.object({ [spec.keyField]: z.string(), permissions: z.array(heldView) });
  const path = `/${spec.collection}/:${spec.keyParam}/permissions`;
  const keyOf = (p: Record<string, string>): string => p[spec.keyParam] ?? '';
  const answer = (key: string, held: HeldPermission[]) => ({ [spec.keyField]: key, permissions: viewHeld(held) });
  return [
    defineRoute({
      method: 'get',
      path,
      tag: 'resources',
      scope: 'admin:read',
      summary: spec.listSummary,
      params,
      status: 200,
      response,
      handler: async ({ params: p }) => answer(keyOf(p), await permissions.permissionsOf(spec.holder, keyOf(p))),
    }),
    defineRoute({
      method: 'post',
      path,
      tag: 'resources',
      scope: 'admin:write',
      summary: spec.grantSummary,
      params,
      body: grantBody,
      status: 200,
      response,
      handler: async ({ params: p, body, actor }) =>
        answer(keyOf(p), await permissions.grant(spec.holder, keyOf(p), body.resource, body.permission, actor)),
    }),
    defineRoute({
      method: 'delete',
      path: `${path}/:permission`,
      tag: 'resources',
      scope: 'admin:write',
      summary: spec.revokeSummary,
      params: withPermission,
      query: resourceQuery,
      status: 200,
      response,
      handler: async ({ params: p, query, actor }) =>
        answer(keyOf(p), await permissions.revoke(spec.holder, keyOf(p), query.resource, p.permission ?? '', actor)),
    }),
  ];
}

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
    ...holderRoutes(admin, ROLE_HOLDER),
    ...holderRoutes(admin, CLIENT_HOLDER),
  ];
}
