import { EntitySchema } from 'typeorm';

/** A named role; its name is what tokens carry in the `roles` claim. */
export interface RoleRow {
  id: string;
  name: string;
  description: string | null;
  createdAt: Date;
}

export const RoleEntity = new EntitySchema<RoleRow>({
  name: 'Role',
  tableName: 'roles',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    name: { type: 'varchar', length: 100 },
    description: { type: 'varchar', length: 500, nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
  indices: [{ name: 'roles_name', columns: ['name'], unique: true }],
});

/** A role held by a user; deleting either side deletes the assignment. */
export interface UserRoleRow {
  userId: string;
  roleId: string;
  createdAt: Date;
}

export const UserRoleEntity = new EntitySchema<UserRoleRow>({
  name: 'UserRole',
  tableName: 'user_roles',
  columns: {
    userId: { name: 'user_id', type: 'uuid', primary: true },
    roleId: { name: 'role_id', type: 'uuid', primary: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
  // rolesOf(userId) reads by the primary key's leading column; unassigning a role by role_id.
  indices: [{ name: 'user_roles_role_id', columns: ['roleId'] }],
  foreignKeys: [
    {
      name: 'user_roles_user_fk',
      target: 'User',
      columnNames: ['userId'],
      referencedColumnNames: ['id'],
      onDelete: 'CASCADE',
    },
    {
      name: 'user_roles_role_fk',
      target: 'Role',
      columnNames: ['roleId'],
      referencedColumnNames: ['id'],
      onDelete: 'CASCADE',
    },
  ],
});
