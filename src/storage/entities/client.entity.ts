import { EntitySchema } from 'typeorm';

/**
 * A registered relying party. `metadata` holds oidc-provider client metadata except
 * client_id and client_secret; the secret is kept only as `secretHash` (see
 * src/oidc/client-secret.ts for how a presented secret is compared).
 */
export interface ClientRow {
  id: string;
  name: string;
  secretHash: string | null;
  firstParty: boolean;
  metadata: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export const ClientEntity = new EntitySchema<ClientRow>({
  name: 'Client',
  tableName: 'clients',
  columns: {
    id: { type: 'varchar', length: 255, primary: true },
    name: { type: 'varchar', length: 200 },
    secretHash: { name: 'secret_hash', type: 'varchar', length: 255, nullable: true },
    firstParty: { name: 'first_party', type: 'boolean', default: false },
    metadata: { type: 'jsonb' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});
