import { EntitySchema } from 'typeorm';

/**
 * A registered relying party. `metadata` holds oidc-provider client metadata except
 * client_id and client_secret; the secret is kept only as `secretHash` (see
 * src/oidc/client-secret.ts for how a presented secret is compared).
 */
export type ClientStatus = 'active' | 'pending';
type ClientSource = 'admin' | 'registration';

export interface ClientRow {
  id: string;
  name: string;
  secretHash: string | null;
  firstParty: boolean;
  metadata: Record<string, unknown>;
  /** 'pending': registered dynamically and waiting for an admin; it cannot obtain tokens. */
  status: ClientStatus;
  /** Who registered it: an admin (CLI, API, console) or the client itself (RFC 7591). */
  source: ClientSource;
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
    status: { type: 'varchar', length: 16, default: 'active' },
    source: { type: 'varchar', length: 16, default: 'admin' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
  indices: [{ name: 'clients_status', columns: ['status'] }],
});
