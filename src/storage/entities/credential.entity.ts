import { EntitySchema } from 'typeorm';

export type CredentialType = 'password' | 'totp' | 'webauthn' | 'recovery_code';

/**
 * A user's credential. `secret` holds a hash (password, recovery code) or a value
 * encrypted with the key-encryption secret (TOTP seed); never a plain secret.
 */
export interface CredentialRow {
  id: string;
  userId: string;
  type: CredentialType;
  secret: string;
  data: Record<string, unknown>;
  /** WebAuthn credential id (base64url): unique per type, looked up for passkey sign-in. */
  externalId: string | null;
  /** The name the user gave it ("YubiKey", "Work laptop"). */
  label: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export const CredentialEntity = new EntitySchema<CredentialRow>({
  name: 'Credential',
  tableName: 'credentials',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    userId: { name: 'user_id', type: 'uuid' },
    type: { type: 'varchar', length: 32 },
    secret: { type: 'text' },
    data: { type: 'jsonb', default: () => "'{}'" },
    externalId: { name: 'external_id', type: 'varchar', length: 1024, nullable: true },
    label: { type: 'varchar', length: 100, nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    lastUsedAt: { name: 'last_used_at', type: 'timestamptz', nullable: true },
  },
  foreignKeys: [
    {
      name: 'credentials_user_fk',
      target: 'User',
      columnNames: ['userId'],
      referencedColumnNames: ['id'],
      onDelete: 'CASCADE',
    },
  ],
  indices: [
    { name: 'credentials_user_type', columns: ['userId', 'type'] },
    { name: 'credentials_one_password', columns: ['userId'], unique: true, where: "type = 'password'" },
    {
      name: 'credentials_external_id',
      columns: ['type', 'externalId'],
      unique: true,
      where: 'external_id IS NOT NULL',
    },
  ],
});
