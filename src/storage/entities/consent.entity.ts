import { EntitySchema } from 'typeorm';

/**
 * What a user allowed a third-party client, whatever session they were in (issue 15 §7):
 * oidc-provider's Grants are per session and die with it; this row is what a new session's
 * grant starts from. Deleted with the user, the client, or by withdrawing consent.
 */
export interface ConsentRow {
  accountId: string;
  clientId: string;
  /** Space-separated OpenID scopes, as a Grant holds them. */
  scope: string;
  claims: string[];
  /** Resource indicator → space-separated scopes (RFC 8707), as a Grant holds them. */
  resourceScopes: Record<string, string>;
  /** When the user first allowed the client. */
  createdAt: Date;
  /** When they last allowed more. */
  updatedAt: Date;
}

export const ConsentEntity = new EntitySchema<ConsentRow>({
  name: 'Consent',
  tableName: 'consents',
  columns: {
    accountId: { name: 'account_id', type: 'uuid', primary: true },
    clientId: { name: 'client_id', type: 'varchar', length: 255, primary: true },
    scope: { type: 'text', default: '' },
    claims: { type: 'jsonb', default: [] },
    resourceScopes: { name: 'resource_scopes', type: 'jsonb', default: {} },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
  foreignKeys: [
    {
      name: 'consents_user_fk',
      target: 'User',
      columnNames: ['accountId'],
      referencedColumnNames: ['id'],
      onDelete: 'CASCADE',
    },
    {
      name: 'consents_client_fk',
      target: 'Client',
      columnNames: ['clientId'],
      referencedColumnNames: ['id'],
      onDelete: 'CASCADE',
    },
  ],
});
