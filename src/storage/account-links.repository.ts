import { LessThan, type EntityManager } from 'typeorm';
import { AccountLinkEntity, type AccountLinkPurpose, type AccountLinkRow } from './entities/account-link.entity.js';

export function createAccountLinksRepository(db: EntityManager) {
  const links = db.getRepository(AccountLinkEntity);
  return {
    /** Stores a new link and retires the user's earlier links of the same purpose (only the newest works). */
    async replace(input: {
      userId: string;
      purpose: AccountLinkPurpose;
      tokenDigest: string;
      data: Record<string, string>;
      expiresAt: Date;
    }): Promise<void> {
      await links.delete({ userId: input.userId, purpose: input.purpose });
      await links.insert(input);
    },

    /**
     * Marks an unexpired, unused link as used and returns it; one UPDATE, so of two concurrent
     * uses only one gets the row.
     */
    async consume(purpose: AccountLinkPurpose, tokenDigest: string): Promise<AccountLinkRow | undefined> {
      const result = await links
        .createQueryBuilder()
        .update()
        .set({ consumedAt: () => 'now()' })
        .where('token_digest = :tokenDigest AND purpose = :purpose AND consumed_at IS NULL AND expires_at > now()', {
          tokenDigest,
          purpose,
        })
        .returning(['id'])
        .execute();
      const id = (result.raw as Array<{ id: string }>)[0]?.id;
      return id ? ((await links.findOneBy({ id })) ?? undefined) : undefined;
    },

    /** An unexpired, unused link, without using it (a page that asks before it acts). */
    async peek(purpose: AccountLinkPurpose, tokenDigest: string): Promise<AccountLinkRow | undefined> {
      const row = await links.findOneBy({ purpose, tokenDigest });
      return row && !row.consumedAt && row.expiresAt > new Date() ? row : undefined;
    },

    /** Retires every link of a purpose for a user (a password reset also voids pending resets). */
    async revoke(userId: string, purpose: AccountLinkPurpose): Promise<void> {
      await links.delete({ userId, purpose });
    },

    async deleteExpired(now = new Date()): Promise<number> {
      return (await links.delete({ expiresAt: LessThan(now) })).affected ?? 0;
    },
  };
}
