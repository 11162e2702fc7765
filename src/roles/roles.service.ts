import type { Repositories, Storage } from '../storage/storage.js';
import type { RoleRow } from '../storage/entities/role.entity.js';
import { RoleInputError } from '../storage/roles.repository.js';
import { checkRoleName } from './role-name.js';
import type { AuditLog } from '../security/audit.js';
import { recordAdminAction, type AdminActor } from '../admin/actor.js';
import { userOrNotFound } from '../admin/lookups.js';
import { ConflictError, FieldError, NotFoundError } from '../http/errors.js';

/** The role every admin of the console and of the API holds; created at boot, never deleted. */
export const ADMIN_ROLE = 'admin';

function translate(error: unknown): never {
  if (error instanceof RoleInputError) {
    const message = error.message.replace(/^[^:]+: /, '');
    if (/exists$/.test(message)) throw new ConflictError('name', message);
    if (error.field === 'role') throw new NotFoundError('role');
    throw new FieldError(error.field, message);
  }
  throw error;
}

/** Role administration; assignments take effect in the next token the user gets. */
export function createRolesAdmin(deps: { storage: Storage; audit: AuditLog }) {
  const { storage, audit } = deps;
  async function change<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
    try {
      return await storage.transaction(work);
    } catch (error) {
      return translate(error);
    }
  }

  const user = (id: string) => userOrNotFound(storage, id);

  return {
    list: (): Promise<RoleRow[]> => storage.roles.list(),

    async get(name: string): Promise<RoleRow & { members: number }> {
      const role = await storage.roles.findByName(name);
      if (!role) throw new NotFoundError('role');
      return { ...role, members: await storage.roles.memberCount(role.id) };
    },

    create: (input: { name: string; description?: string | null }, actor: AdminActor): Promise<RoleRow> => change(async (tx) => {
      const role = await tx.roles.create({ ...input, name: checkRoleName(input.name) });
      await recordAdminAction(audit, tx, actor, 'role.created', { details: { role: role.name } });
      return role;
    }),

    update: (name: string, description: string | null, actor: AdminActor): Promise<RoleRow> => change(async (tx) => {
      const role = await tx.roles.describe(name, description);
      await recordAdminAction(audit, tx, actor, 'role.updated', { details: { role: name } });
      return role;
    }),

    delete: (name: string, actor: AdminActor): Promise<void> => change(async (tx) => {
      if (name === ADMIN_ROLE) throw new FieldError('name', 'the admin role cannot be deleted');
      await tx.roles.delete(name);
      await recordAdminAction(audit, tx, actor, 'role.deleted', { details: { role: name } });
    }),

    async assign(userId: string, roleName: string, actor: AdminActor): Promise<string[]> {
      await user(userId);
      return change(async (tx) => {
        await tx.roles.assign(userId, roleName);
        await recordAdminAction(audit, tx, actor, 'role.assigned', { subjectId: userId, details: { role: roleName } });
        return tx.roles.rolesOf(userId);
      });
    },

    async unassign(userId: string, roleName: string, actor: AdminActor): Promise<string[]> {
      await user(userId);
      return change(async (tx) => {
        if (!(await tx.roles.unassign(userId, roleName))) throw new NotFoundError('role assignment');
        await recordAdminAction(audit, tx, actor, 'role.unassigned', { subjectId: userId, details: { role: roleName } });
        return tx.roles.rolesOf(userId);
      });
    },
  };
}
