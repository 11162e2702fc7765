import type { EntityManager } from 'typeorm';
import { runSql } from './data-source.js';
import type { CodeChannel } from './one-time-codes.repository.js';

/** A user's phone number in E.164, the source of the `phone_number` claims (OIDC Core §5.1). */
export interface UserPhone {
  phoneNumber: string;
  verified: boolean;
  updatedAt: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The second factors a user may choose to be asked for first (`default_second_factors.method`). */
export const DEFAULT_FACTOR_METHODS = ['totp', 'webauthn', 'email', 'sms'] as const;
export type DefaultFactorMethod = (typeof DEFAULT_FACTOR_METHODS)[number];

const isDefaultMethod = (value: string): value is DefaultFactorMethod =>
  (DEFAULT_FACTOR_METHODS as readonly string[]).includes(value);

/**
 * Phone numbers (`user_phones`), the code second factors a user turned on (`code_factors`) and
 * the second factor they chose to be asked for first (`default_second_factors`).
 */
export function createPhonesRepository(db: EntityManager) {
  return {
    async find(userId: string): Promise<UserPhone | undefined> {
      if (!UUID.test(userId)) return undefined;
      const { rows } = await runSql<{ phone_number: string; verified: boolean; updated_at: Date }>(
        db,
        'SELECT phone_number, verified, updated_at FROM user_phones WHERE user_id = $1',
        [userId],
      );
      const row = rows[0];
      return row
        ? { phoneNumber: row.phone_number, verified: row.verified, updatedAt: new Date(row.updated_at) }
        : undefined;
    },

    async set(userId: string, phoneNumber: string, verified: boolean): Promise<void> {
      await runSql(
        db,
        `INSERT INTO user_phones (user_id, phone_number, verified) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET phone_number = $2, verified = $3, updated_at = now()`,
        [userId, phoneNumber, verified],
      );
    },

    /** True when there was a number to remove. */
    async remove(userId: string): Promise<boolean> {
      return (await runSql(db, 'DELETE FROM user_phones WHERE user_id = $1', [userId])).affected > 0;
    },

    async factors(userId: string): Promise<CodeChannel[]> {
      if (!UUID.test(userId)) return [];
      const { rows } = await runSql<{ channel: CodeChannel }>(
        db,
        'SELECT channel FROM code_factors WHERE user_id = $1 ORDER BY channel',
        [userId],
      );
      return rows.map((r) => r.channel);
    },

    async enableFactor(userId: string, channel: CodeChannel): Promise<void> {
      await runSql(
        db,
        'INSERT INTO code_factors (user_id, channel) VALUES ($1, $2) ON CONFLICT (user_id, channel) DO NOTHING',
        [userId, channel],
      );
    },

    /** True when the factor was on. */
    async disableFactor(userId: string, channel: CodeChannel): Promise<boolean> {
      return (
        (await runSql(db, 'DELETE FROM code_factors WHERE user_id = $1 AND channel = $2', [userId, channel])).affected >
        0
      );
    },

    /** The method the user chose to be asked for first, as stored (it may name a factor since removed). */
    async defaultFactor(userId: string): Promise<DefaultFactorMethod | null> {
      if (!UUID.test(userId)) return null;
      const { rows } = await runSql<{ method: string }>(
        db,
        'SELECT method FROM default_second_factors WHERE user_id = $1',
        [userId],
      );
      const method = rows[0]?.method;
      return method !== undefined && isDefaultMethod(method) ? method : null;
    },

    /** null forgets the choice; true when something changed. */
    async setDefaultFactor(userId: string, method: DefaultFactorMethod | null): Promise<boolean> {
      if (method === null) {
        return (await runSql(db, 'DELETE FROM default_second_factors WHERE user_id = $1', [userId])).affected > 0;
      }
      await runSql(
        db,
        `INSERT INTO default_second_factors (user_id, method) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET method = $2, updated_at = now()`,
        [userId, method],
      );
      return true;
    },

    /** Removes the number, every code factor and the choice of a default (an admin's reset); how many went. */
    async removeAll(userId: string): Promise<number> {
      const phone = await runSql(db, 'DELETE FROM user_phones WHERE user_id = $1', [userId]);
      const factors = await runSql(db, 'DELETE FROM code_factors WHERE user_id = $1', [userId]);
      await runSql(db, 'DELETE FROM default_second_factors WHERE user_id = $1', [userId]);
      return factors.affected + (factors.affected === 0 ? phone.affected : 0);
    },
  };
}
