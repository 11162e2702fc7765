import { EntitySchema } from 'typeorm';

/**
 * A linked identity: a user's account at an upstream (connection + the upstream's subject).
 * One subject of one connection names one user; deleted with the user or the connection.
 */
export interface UserIdentityRow {
  id: string;
  connectionId: string;
  /** The upstream's stable identifier (`sub`, GitHub's numeric id, Discord's snowflake). */
  subject: string;
  userId: string;
  /** The upstream's address when the identity was linked: shown on /account, never used to sign in. */
  email: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export const UserIdentityEntity = new EntitySchema<UserIdentityRow>({
  name: 'UserIdentity',
  tableName: 'user_identities',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    connectionId: { name: 'connection_id', type: 'varchar', length: 64 },
    subject: { type: 'varchar', length: 255 },
    userId: { name: 'user_id', type: 'uuid' },
    email: { type: 'varchar', length: 320, nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    lastUsedAt: { name: 'last_used_at', type: 'timestamptz', nullable: true },
  },
  foreignKeys: [
    {
      name: 'user_identities_user_fk',
      target: 'User',
      columnNames: ['userId'],
      referencedColumnNames: ['id'],
      onDelete: 'CASCADE',
    },
    {
      name: 'user_identities_connection_fk',
      target: 'Connection',
      columnNames: ['connectionId'],
      referencedColumnNames: ['id'],
      onDelete: 'CASCADE',
    },
  ],
  indices: [
    { name: 'user_identities_subject', columns: ['connectionId', 'subject'], unique: true },
    { name: 'user_identities_user', columns: ['userId'] },
  ],
});
