import { EntitySchema } from 'typeorm';

/**
 * An upstream identity provider an admin configured (issue 17). The columns are what storage
 * looks rows up or orders them by; everything else the federation domain validates and keeps
 * in `settings` (src/federation/connection.ts). The client secret or private key is sealed
 * (src/security/secret-box.ts) before it reaches this row.
 */
export interface ConnectionRow {
  /** The admin's slug, also in the redirect URI and the `upstream=` hint. */
  id: string;
  displayName: string;
  kind: 'oidc' | 'oauth2';
  preset: string | null;
  enabled: boolean;
  /** Place on the sign-in page, smallest first. */
  position: number;
  settings: Record<string, unknown>;
  /** The client secret or private key, sealed; null for a connection without one. */
  secretSealed: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const ConnectionEntity = new EntitySchema<ConnectionRow>({
  name: 'Connection',
  tableName: 'connections',
  columns: {
    id: { type: 'varchar', length: 64, primary: true },
    displayName: { name: 'display_name', type: 'varchar', length: 100 },
    kind: { type: 'varchar', length: 16 },
    preset: { type: 'varchar', length: 32, nullable: true },
    enabled: { type: 'boolean', default: true },
    position: { type: 'integer', default: 0 },
    settings: { type: 'jsonb', default: {} },
    secretSealed: { name: 'secret_sealed', type: 'text', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});
