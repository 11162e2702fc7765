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

/** Phone numbers (`user_phones`) and the code second factors a user turned on (`code_factors`). */
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
  };
}
