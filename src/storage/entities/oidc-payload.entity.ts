import { EntitySchema } from 'typeorm';

/**
 * Every oidc-provider model except Client lives in this one table, keyed by (model, id).
 * One table keeps one adapter, one purge and one revokeByGrantId statement; the partial
 * indexes follow the adapter's lookups (docs/storage.md says why and what was measured).
 */
export interface OidcPayloadRow {
  model: string;
  id: string;
  payload: Record<string, unknown>;
  grantId: string | null;
  userCode: string | null;
  uid: string | null;
  accountId: string | null;
  expiresAt: Date | null;
  consumedAt: Date | null;
  createdAt: Date;
}

export const OidcPayloadEntity = new EntitySchema<OidcPayloadRow>({
  name: 'OidcPayload',
  tableName: 'oidc_payloads',
  columns: {
    model: { type: 'varchar', length: 64, primary: true },
    id: { type: 'varchar', length: 255, primary: true },
    payload: { type: 'jsonb' },
    grantId: { name: 'grant_id', type: 'varchar', length: 255, nullable: true },
    userCode: { name: 'user_code', type: 'varchar', length: 255, nullable: true },
    uid: { type: 'varchar', length: 255, nullable: true },
    accountId: { name: 'account_id', type: 'varchar', length: 255, nullable: true },
    expiresAt: { name: 'expires_at', type: 'timestamptz', nullable: true },
    consumedAt: { name: 'consumed_at', type: 'timestamptz', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
  indices: [
    { name: 'oidc_payloads_grant_id', columns: ['grantId'], where: 'grant_id IS NOT NULL' },
    { name: 'oidc_payloads_uid', columns: ['model', 'uid'], unique: true, where: 'uid IS NOT NULL' },
    { name: 'oidc_payloads_user_code', columns: ['model', 'userCode'], unique: true, where: 'user_code IS NOT NULL' },
    { name: 'oidc_payloads_account_id', columns: ['accountId', 'model'], where: 'account_id IS NOT NULL' },
    { name: 'oidc_payloads_expires_at', columns: ['expiresAt'], where: 'expires_at IS NOT NULL' },
  ],
});
