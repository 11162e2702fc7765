import { LessThanOrEqual, type EntityManager } from 'typeorm';
import { SigningKeyEntity, type KeyUse, type SigningKeyRow } from './entities/signing-key.entity.js';

export type NewSigningKey = Pick<SigningKeyRow, 'id' | 'use' | 'alg' | 'publicJwk' | 'privateEncrypted'>;

export function createSigningKeysRepository(db: EntityManager) {
  const keys = db.getRepository(SigningKeyEntity);
  return {
    /** Published keys of one use, the active ones first and newest first. */
    async listPublished(use: KeyUse): Promise<SigningKeyRow[]> {
      const rows = await keys.find({ where: { use }, order: { createdAt: 'DESC' } });
      const now = Date.now();
      return rows
        .filter((k) => k.state === 'active' || (k.expiresAt !== null && k.expiresAt.getTime() > now))
        .sort((a, b) => Number(b.state === 'active') - Number(a.state === 'active'));
    },

    listAll: () => keys.find({ order: { createdAt: 'DESC' } }),

    /** The database's clock (epoch ms), the one that stamps `created_at`: key activation is timed on it. */
    async databaseNow(): Promise<number> {
      const rows: Array<{ now: Date }> = await db.query('SELECT statement_timestamp() AS now');
      const now = rows[0]?.now;
      if (!(now instanceof Date)) throw new Error('the database did not report its time');
      return now.getTime();
    },

    /** Inserts the new keys and retires the previously active ones of the same use and alg, atomically. */
    async rotate(fresh: Array<NewSigningKey & { retireOldUntil: Date }>): Promise<void> {
      await db.transaction(async (tx) => {
        const repo = tx.getRepository(SigningKeyEntity);
        for (const { retireOldUntil, ...key } of fresh) {
          await repo.update(
            { use: key.use, alg: key.alg, state: 'active' },
            { state: 'retired', retiredAt: new Date(), expiresAt: retireOldUntil },
          );
          await repo.save({ ...key, state: 'active', retiredAt: null, expiresAt: null });
        }
      });
    },

    /**
     * First keys (first boot, racing replicas): made with `fresh` and stored only when no key
     * of this use is active. The check comes first because making an RSA key costs a quarter
     * second, and every boot asks.
     */
    async insertIfNoneActive(use: KeyUse, fresh: () => Promise<NewSigningKey[]>): Promise<boolean> {
      if ((await keys.countBy({ use, state: 'active' })) > 0) return false;
      return db.transaction(async (tx) => {
        // Serialises first boots of several replicas on the same database.
        await tx.query('SELECT pg_advisory_xact_lock($1)', [727_274_002]);
        const repo = tx.getRepository(SigningKeyEntity);
        if ((await repo.countBy({ use, state: 'active' })) > 0) return false;
        const made = await fresh();
        await repo.save(made.map((k) => ({ ...k, state: 'active' as const, retiredAt: null, expiresAt: null })));
        return true;
      });
    },

    /** A cheap token that changes whenever the key set changes, for replicas to poll. */
    async fingerprint(): Promise<string> {
      const rows: Array<{ n: string; latest: Date | null; retired: Date | null }> = await db.query(
        'SELECT count(*) AS n, max(created_at) AS latest, max(retired_at) AS retired FROM signing_keys',
      );
      const row = rows[0];
      return `${row?.n}:${row?.latest?.toISOString() ?? ''}:${row?.retired?.toISOString() ?? ''}`;
    },

    async deleteExpired(): Promise<number> {
      const result = await keys.delete({ state: 'retired', expiresAt: LessThanOrEqual(new Date()) });
      return result.affected ?? 0;
    },
  };
}

export type SigningKeysRepository = ReturnType<typeof createSigningKeysRepository>;
