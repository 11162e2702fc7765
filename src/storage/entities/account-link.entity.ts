import { EntitySchema } from 'typeorm';

/** What a mailed link is for; each purpose has its own lifetime and handler. */
export type AccountLinkPurpose = 'verify-email' | 'change-email' | 'reset-password';

/** A mailed link: the digest of its secret, never the secret itself. */
export interface AccountLinkRow {
  id: string;
  userId: string;
  purpose: AccountLinkPurpose;
  tokenDigest: string;
  /** What the link carries besides the user (the new address of an email change). */
  data: Record<string, string>;
  createdAt: Date;
  expiresAt: Date;
  consumedAt: Date | null;
}

export const AccountLinkEntity = new EntitySchema<AccountLinkRow>({
  name: 'AccountLink',
  tableName: 'account_links',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    userId: { name: 'user_id', type: 'uuid' },
    purpose: { type: 'varchar', length: 32 },
    tokenDigest: { name: 'token_digest', type: 'varchar', length: 64 },
    data: { type: 'jsonb', default: {} },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    expiresAt: { name: 'expires_at', type: 'timestamptz' },
    consumedAt: { name: 'consumed_at', type: 'timestamptz', nullable: true },
  },
  foreignKeys: [
    {
      name: 'account_links_user_fk',
      target: 'User',
      columnNames: ['userId'],
      referencedColumnNames: ['id'],
      onDelete: 'CASCADE',
    },
  ],
  indices: [
    { name: 'account_links_token', columns: ['tokenDigest'], unique: true },
    { name: 'account_links_user_purpose', columns: ['userId', 'purpose'] },
    { name: 'account_links_expires', columns: ['expiresAt'] },
  ],
});
