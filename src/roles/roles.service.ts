import type { Storage } from '../storage/storage.js';
import type { RoleRow } from '../storage/entities/role.entity.js';
import { checkRoleDescription, checkRoleName } from './role-fields.js';
import type { AuditLog } from '../security/audit.js';
import { recordAdminAction, type AdminActor } from '../security/admin-actor.js';
import { userOrNotFound } from '../accounts/user-lookup.js';
import { InvalidInputError, NotFoundError } from '../errors/domain-errors.js';

/** The role every admin of the console and of the API holds; created at boot, never deleted. */
export const ADMIN_ROLE = 'admin';

/**
 * Role administration; assignments take effect in the next token the user gets. The
 * repository's refusals (a taken name, an unknown role) come as domain errors already.
 */
export function createRolesAdmin(deps: { storage: Storage; audit: AuditLog }) {
  const { storage, audit } = deps;

  const user = (id: string) => userOrNotFound(storage, id);

  return {
    list: (): Promise<RoleRow[]> => storage.roles.list(),

    async get(name: string): Promise<RoleRow & { members: number }> {
      const role = await storage.roles.findByName(name);
      if (!role) throw new NotFoundError('role');
      return { ...role, members: await storage.roles.memberCount(role.id) };
    },

    create: (input: { name: string; description?: string | null }, actor: AdminActor): Promise<RoleRow> =>
      storage.transaction(async (tx) => {
        // The name first: a name and a description both bad name the name.
        const role = await tx.roles.create({
          name: checkRoleName(input.name),
          description: checkRoleDescription(input.description),
        });
        await recordAdminAction(audit, tx, actor, 'role.created', { details: { role: role.name } });
        return role;
      }),

    update: (name: string, description: string | null, actor: AdminActor): Promise<RoleRow> =>
      storage.transaction(async (tx) => {
        // An unknown role is a 404 before its description is judged.
        if (!(await tx.roles.findByName(name))) throw new NotFoundError('role');
        const role = await tx.roles.describe(name, checkRoleDescription(description));
        await recordAdminAction(audit, tx, actor, 'role.updated', { details: { role: name } });
        return role;
      }),

    delete: (name: string, actor: AdminActor): Promise<void> =>
      storage.transaction(async (tx) => {
        if (name === ADMIN_ROLE) throw new InvalidInputError('name', 'the admin role cannot be deleted');
        await tx.roles.delete(name);
        await recordAdminAction(audit, tx, actor, 'role.deleted', { details: { role: name } });
      }),

    async assign(userId: string, roleName: string, actor: AdminActor): Promise<string[]> {
      await user(userId);
      return storage.transaction(async (tx) => {
        await tx.roles.assign(userId, roleName);
        await recordAdminAction(audit, tx, actor, 'role.assigned', { subjectId: userId, details: { role: roleName } });
        return tx.roles.rolesOf(userId);
      });
    },

    async unassign(userId: string, roleName: string, actor: AdminActor): Promise<string[]> {
      await user(userId);
      return storage.transaction(async (tx) => {
        if (!(await tx.roles.unassign(userId, roleName))) throw new NotFoundError('role assignment');
        await recordAdminAction(audit, tx, actor, 'role.unassigned', {
          subjectId: userId,
          details: { role: roleName },
        });
        return tx.roles.rolesOf(userId);
      });
    },
  };
}
