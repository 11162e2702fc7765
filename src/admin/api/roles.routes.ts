import { z } from 'zod';
import type { RoleRow } from '../../storage/entities/role.entity.js';
import type { AdminServices } from '../services.js';
import { idParams, iso, timestamp } from './common.js';
import { defineRoute } from './route.js';

const roleView = z.object({ name: z.string(), description: z.string().nullable(), created_at: timestamp });
const viewRole = (role: RoleRow): z.input<typeof roleView> => ({
  name: role.name,
  description: role.description,
  created_at: iso(role.createdAt) ?? '',
});
const nameParams = z.strictObject({ name: z.string().min(1).max(100) });
const assignment = idParams.extend({ role: z.string().min(1).max(100) });
const rolesOfUser = z.object({ user_id: z.string(), roles: z.array(z.string()) });

export function roleRoutes(admin: AdminServices) {
  return [
    defineRoute({
      method: 'get',
      path: '/roles',
      tag: 'roles',
      scope: 'admin:read',
      summary: 'List roles',
      status: 200,
      response: z.object({ items: z.array(roleView) }),
      handler: async () => ({ items: (await admin.roles.list()).map(viewRole) }),
    }),
    defineRoute({
      method: 'post',
      path: '/roles',
      tag: 'roles',
      scope: 'admin:write',
      summary: 'Create a role',
      conflicts: true,
      body: z.strictObject({
        name: z.string().min(1).max(100),
        description: z.string().max(500).nullable().optional(),
      }),
      status: 201,
      response: roleView,
      handler: async ({ body, actor }) => viewRole(await admin.roles.create(body, actor)),
    }),
    defineRoute({
      method: 'get',
      path: '/roles/:name',
      tag: 'roles',
      scope: 'admin:read',
      summary: 'Read a role and how many users hold it',
      params: nameParams,
      status: 200,
      response: roleView.extend({ members: z.number().int() }),
      async handler({ params }) {
        const role = await admin.roles.get(params.name);
        return { ...viewRole(role), members: role.members };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/roles/:name',
      tag: 'roles',
      scope: 'admin:write',
      summary: "Change a role's description (names are what tokens carry and do not change)",
      params: nameParams,
      body: z.strictObject({ description: z.string().max(500).nullable() }),
      status: 200,
      response: roleView,
      handler: async ({ params, body, actor }) =>
        viewRole(await admin.roles.update(params.name, body.description, actor)),
    }),
    defineRoute({
      method: 'delete',
      path: '/roles/:name',
      tag: 'roles',
      scope: 'admin:write',
      summary: 'Delete a role and every assignment of it',
      params: nameParams,
      status: 204,
      handler: async ({ params, actor }) => {
        await admin.roles.delete(params.name, actor);
        return undefined;
      },
    }),
    defineRoute({
      method: 'put',
      path: '/users/:id/roles/:role',
      tag: 'roles',
      scope: 'admin:write',
      summary: 'Give a user a role (idempotent)',
      params: assignment,
      status: 200,
      response: rolesOfUser,
      handler: async ({ params, actor }) => ({
        user_id: params.id,
        roles: await admin.roles.assign(params.id, params.role, actor),
      }),
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:id/roles/:role',
      tag: 'roles',
      scope: 'admin:write',
      summary: 'Take a role from a user',
      params: assignment,
      status: 200,
      response: rolesOfUser,
      handler: async ({ params, actor }) => ({
        user_id: params.id,
        roles: await admin.roles.unassign(params.id, params.role, actor),
      }),
    }),
  ];
}
