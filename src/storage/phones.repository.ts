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

/**
 * Everything the second sign-in step decides on, as stored: how many of each second-factor
 * credential (`credentials`), the code factors turned on, the phone and the default choice (which
 * may name a factor since removed).
 */
export interface SecondFactorState {
  totp: number;
  webauthn: number;
  recoveryCodes: number;
  /** `code_factors`, in channel order. */
  channels: CodeChannel[];
  phone: UserPhone | null;
  defaultFactor: DefaultFactorMethod | null;
}

const noSecondFactors = (): SecondFactorState => ({
  totp: 0,
  webauthn: 0,
  recoveryCodes: 0,
  channels: [],
  phone: null,
  defaultFactor: null,
});

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

    /**
     * A user's second factors in one statement (one round trip, one connection): the resume of
     * every sign-in asks, and most users have none. The counts aggregate over no rows to one row
     * of zeros, so the row is there whether or not anything is enrolled.
     */
    async secondFactorState(userId: string): Promise<SecondFactorState> {
      if (!UUID.test(userId)) return noSecondFactors();
      const { rows } = await runSql<{
        totp: number;
        webauthn: number;
        recovery_codes: number;
        channels: CodeChannel[];
        phone_number: string | null;
        verified: boolean | null;
        phone_updated_at: Date | null;
        default_method: string | null;
      }>(
        db,
        `SELECT f.totp, f.webauthn, f.recovery_codes,
           ARRAY(SELECT channel FROM code_factors WHERE user_id = $1 ORDER BY channel)::text[] AS channels,
           p.phone_number, p.verified, p.updated_at AS phone_updated_at, d.method AS default_method
         FROM (
           SELECT count(*) FILTER (WHERE type = 'totp')::int AS totp,
             count(*) FILTER (WHERE type = 'webauthn')::int AS webauthn,
             count(*) FILTER (WHERE type = 'recovery_code')::int AS recovery_codes
           FROM credentials WHERE user_id = $1 AND type IN ('totp', 'webauthn', 'recovery_code')
         ) f
         LEFT JOIN user_phones p ON p.user_id = $1
         LEFT JOIN default_second_factors d ON d.user_id = $1`,
        [userId],
      );
      const row = rows[0];
      if (!row) return noSecondFactors();
      const method = row.default_method;
      return {
        totp: row.totp,
        webauthn: row.webauthn,
        recoveryCodes: row.recovery_codes,
        channels: row.channels,
        phone:
          row.phone_number === null
            ? null
            : {
                phoneNumber: row.phone_number,
                verified: row.verified === true,
                updatedAt: new Date(row.phone_updated_at ?? 0),
              },
        defaultFactor: method !== null && isDefaultMethod(method) ? method : null,
      };
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
