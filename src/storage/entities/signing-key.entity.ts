import { EntitySchema } from 'typeorm';

export type KeyUse = 'sig' | 'cookie';
type KeyState = 'active' | 'retired';

/**
 * Signing keys (JWK) and cookie-signing keys. Private material is encrypted with the
 * key-encryption secret; a retired key stays published until `expiresAt`, when every
 * token it signed has expired.
 */
export interface SigningKeyRow {
  id: string;
  use: KeyUse;
  alg: string;
  state: KeyState;
  publicJwk: Record<string, unknown> | null;
  privateEncrypted: string;
  createdAt: Date;
  retiredAt: Date | null;
  expiresAt: Date | null;
}

export const SigningKeyEntity = new EntitySchema<SigningKeyRow>({
  name: 'SigningKey',
  tableName: 'signing_keys',
  columns: {
    id: { type: 'varchar', length: 64, primary: true },
    use: { type: 'varchar', length: 16 },
    alg: { type: 'varchar', length: 16 },
    state: { type: 'varchar', length: 16 },
    publicJwk: { name: 'public_jwk', type: 'jsonb', nullable: true },
    privateEncrypted: { name: 'private_encrypted', type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    retiredAt: { name: 'retired_at', type: 'timestamptz', nullable: true },
    expiresAt: { name: 'expires_at', type: 'timestamptz', nullable: true },
  },
  indices: [{ name: 'signing_keys_use_state', columns: ['use', 'state'] }],
});
