import { In, type EntityManager } from 'typeorm';
import { isUniqueViolation } from './unique-violation.js';
import { RoleEntity, UserRoleEntity, type RoleRow } from './entities/role.entity.js';
import { findUnstorableText } from './storable-text.js';
import { ConflictError, NotFoundError } from '../errors/domain-errors.js';

// SQL only: the role rules (src/roles/role-fields.ts) are checked by the callers that make
// roles. What only the database knows comes back as the domain's errors: a name taken (the
// unique index, which also settles two concurrent creations) and a role that does not exist.

export function createRolesRepository(db: EntityManager) {
  const roles = db.getRepository(RoleEntity);
  const userRoles = db.getRepository(UserRoleEntity);

  // Text PostgreSQL cannot hold is no stored role's name: null without a query that would fail.
  const findByName = async (name: string): Promise<RoleRow | null> =>
    findUnstorableText(name) ? null : roles.findOneBy({ name });

  async function byName(name: string): Promise<RoleRow> {
    const role = await findByName(name);
    if (!role) throw new NotFoundError('role');
    return role;
  }

  return {
    async create(input: { name: string; description?: string | null }): Promise<RoleRow> {
      try {
        return await roles.save({ name: input.name, description: input.description ?? null });
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError('name', `a role named "${input.name}" exists`);
        throw error;
      }
    },

    list: () => roles.find({ order: { name: 'ASC' } }),

    /** The role of that name, or null. */
    findByName,

    /** Sets a role's description; the name is what tokens carry, so it does not change. */
    async describe(name: string, description: string | null): Promise<RoleRow> {
      const role = await byName(name);
      await roles.update({ id: role.id }, { description });
      return { ...role, description };
    },

    memberCount: (roleId: string) => userRoles.countBy({ roleId }),

    /**
     * Many assignments at once (an import): roles that do not exist are created. Returns the
     * names created. Run it inside the import's transaction.
     */
    async assignMany(assignments: Array<{ userId: string; role: string }>): Promise<string[]> {
      if (assignments.length === 0) return [];
      const names = [...new Set(assignments.map((a) => a.role))];
      const before = new Set(
        (await roles.find({ select: { name: true }, where: { name: In(names) } })).map((r) => r.name),
      );
      const created = names.filter((n) => !before.has(n));
      if (created.length > 0)
        await roles
          .createQueryBuilder()
          .insert()
          .values(created.map((name) => ({ name, description: null })))
          .orIgnore()
          .execute();
      const ids = new Map((await roles.find({ where: { name: In(names) } })).map((r) => [r.name, r.id]));
      for (let i = 0; i < assignments.length; i += 1000) {
        const values = assignments.slice(i, i + 1000).map((a) => ({ userId: a.userId, roleId: ids.get(a.role) ?? '' }));
        await userRoles.createQueryBuilder().insert().values(values).orIgnore().execute();
      }
      return created;
    },

    /** Creates the role unless it exists (built-in roles at boot). */
    async ensure(name: string, description: string): Promise<void> {
      await roles.createQueryBuilder().insert().values({ name, description }).orIgnore().execute();
    },

    /** Deletes the role and, by cascade, every assignment of it. */
    async delete(name: string): Promise<void> {
      const role = await byName(name);
      await roles.delete({ id: role.id });
    },

    /** Gives the user the role; assigning a role the user holds already is not an error. */
    async assign(userId: string, roleName: string): Promise<void> {
      const role = await byName(roleName);
      await userRoles.createQueryBuilder().insert().values({ userId, roleId: role.id }).orIgnore().execute();
    },

    /** Returns false when the user did not hold the role. */
    async unassign(userId: string, roleName: string): Promise<boolean> {
      const role = await byName(roleName);
      const result = await userRoles.delete({ userId, roleId: role.id });
      return (result.affected ?? 0) > 0;
    },

    /** The names of the user's roles, sorted, for the `roles` claim. */
    async rolesOf(userId: string): Promise<string[]> {
      const held = await userRoles.findBy({ userId });
      if (held.length === 0) return [];
      const rows = await roles.find({ where: { id: In(held.map((h) => h.roleId)) }, order: { name: 'ASC' } });
      return rows.map((r) => r.name);
    },
  };
}

export type RolesRepository = ReturnType<typeof createRolesRepository>;
