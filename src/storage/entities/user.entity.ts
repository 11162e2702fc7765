import { EntitySchema } from 'typeorm';

/** The profile claims as stored: text members, and the address object's text members. */
export type StoredProfile = { [claim: string]: string | { [member: string]: string } };

/** Custom attribute values by attribute name, as the schema's types store them (accounts/attribute-schema.ts). */
export type StoredAttributes = { [name: string]: string | number | boolean };

export interface UserRow {
  id: string;
  email: string;
  /** Lower-cased email: the sign-in identifier, unique. */
  emailNormalized: string;
  name: string | null;
  emailVerified: boolean;
  disabledAt: Date | null;
  /** When the user registered themselves; null when an administrator or an import made the account. */
  selfRegisteredAt: Date | null;
  /** The OIDC Core §5.1 profile claims besides name and email (accounts/profile.ts validates them). */
  profile: StoredProfile;
  /** Values of the custom attributes admins define; only defined names are read. */
  attributes: StoredAttributes;
  createdAt: Date;
  updatedAt: Date;
}

export const UserEntity = new EntitySchema<UserRow>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    email: { type: 'varchar', length: 320 },
    emailNormalized: { name: 'email_normalized', type: 'varchar', length: 320 },
    name: { type: 'varchar', length: 200, nullable: true },
    emailVerified: { name: 'email_verified', type: 'boolean', default: false },
    disabledAt: { name: 'disabled_at', type: 'timestamptz', nullable: true },
    selfRegisteredAt: { name: 'self_registered_at', type: 'timestamptz', nullable: true },
    profile: { type: 'jsonb', default: () => "'{}'" },
    attributes: { type: 'jsonb', default: () => "'{}'" },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
  indices: [{ name: 'users_email_normalized', columns: ['emailNormalized'], unique: true }],
});
