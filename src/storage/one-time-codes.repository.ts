import type { EntityManager } from 'typeorm';
import { runSql } from './data-source.js';

/** What a code or link is for: a sign-in without a password, a second factor, a phone number's proof. */
export type CodePurpose = 'sign_in' | 'second_factor' | 'phone_verification';
export type CodeChannel = 'email' | 'sms';

/** One code or sign-in link sent. Only keyed digests of the code, the link and the browser binding are kept. */
export interface OneTimeCodeRow {
  id: string;
  purpose: CodePurpose;
  channel: CodeChannel;
  /** Whom earlier codes of the same purpose are voided for: a user id or a digest of a typed address. */
  subject: string;
  /** Null when the typed address has no account (a sign-in request answered like any other). */
  userId: string | null;
  codeDigest: string | null;
  linkDigest: string | null;
  browserDigest: string | null;
  attempts: number;
  data: Record<string, string>;
  expiresAt: Date;
  consumedAt: Date | null;
  createdAt: Date;
}

export type NewOneTimeCode = Pick<
  OneTimeCodeRow,
  'purpose' | 'channel' | 'subject' | 'userId' | 'codeDigest' | 'linkDigest' | 'browserDigest' | 'data' | 'expiresAt'
>;

interface Sql {
  id: string;
  purpose: CodePurpose;
  channel: CodeChannel;
  subject: string;
  user_id: string | null;
  code_digest: string | null;
  link_digest: string | null;
  browser_digest: string | null;
  attempts: number;
  data: Record<string, string>;
  expires_at: Date;
  consumed_at: Date | null;
  created_at: Date;
}

const COLUMNS =
  'id, purpose, channel, subject, user_id, code_digest, link_digest, browser_digest, attempts, data, expires_at, consumed_at, created_at';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const toRow = (r: Sql): OneTimeCodeRow => ({
  id: r.id,
  purpose: r.purpose,
  channel: r.channel,
  subject: r.subject,
  userId: r.user_id,
  codeDigest: r.code_digest,
  linkDigest: r.link_digest,
  browserDigest: r.browser_digest,
  attempts: r.attempts,
  data: r.data,
  expiresAt: new Date(r.expires_at),
  consumedAt: r.consumed_at ? new Date(r.consumed_at) : null,
  createdAt: new Date(r.created_at),
});

/**
 * Codes and sign-in links (issue 18, docs/factors.md). Times are the caller's (`now`): the
 * domain decides expiry on its own clock, which tests move forward. Every change that decides a
 * race (an attempt counted, a code or link used) is one UPDATE, so of two concurrent requests
 * only one wins.
 */
export function createOneTimeCodesRepository(db: EntityManager) {
  const one = async (sql: string, params: unknown[]): Promise<OneTimeCodeRow | undefined> => {
    const { rows } = await runSql<Sql>(db, sql, params);
    return rows[0] ? toRow(rows[0]) : undefined;
  };
  return {
    /** Stores a new code and voids the earlier ones of its purpose and subject: only the newest works. */
    async replace(input: NewOneTimeCode): Promise<OneTimeCodeRow> {
      await runSql(db, 'DELETE FROM one_time_codes WHERE purpose = $1 AND subject = $2', [
        input.purpose,
        input.subject,
      ]);
      const row = await one(
        `INSERT INTO one_time_codes (purpose, channel, subject, user_id, code_digest, link_digest, browser_digest, data, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
        [
          input.purpose,
          input.channel,
          input.subject,
          input.userId,
          input.codeDigest,
          input.linkDigest,
          input.browserDigest,
          JSON.stringify(input.data),
          input.expiresAt,
        ],
      );
      if (!row) throw new Error('one_time_codes: INSERT returned no row');
      return row;
    },

    find: async (id: string): Promise<OneTimeCodeRow | undefined> =>
      UUID.test(id) ? one(`SELECT ${COLUMNS} FROM one_time_codes WHERE id = $1`, [id]) : undefined,

    /** The live code of a purpose and subject (replace keeps one: the newest), used or not. */
    current: (purpose: CodePurpose, subject: string): Promise<OneTimeCodeRow | undefined> =>
      one(
        `SELECT ${COLUMNS} FROM one_time_codes WHERE purpose = $1 AND subject = $2 ORDER BY created_at DESC LIMIT 1`,
        [purpose, subject],
      ),

    findByLink: (linkDigest: string): Promise<OneTimeCodeRow | undefined> =>
      one(`SELECT ${COLUMNS} FROM one_time_codes WHERE link_digest = $1`, [linkDigest]),

    /**
     * Counts one attempt at an unused code that has attempts left; the row after it, or
     * undefined when none were left (or it is used): the count is spent before the comparison,
     * so parallel guesses cannot exceed the limit.
     */
    countAttempt: (id: string, maxAttempts: number): Promise<OneTimeCodeRow | undefined> =>
      one(
        `UPDATE one_time_codes SET attempts = attempts + 1
         WHERE id = $1 AND consumed_at IS NULL AND attempts < $2 RETURNING ${COLUMNS}`,
        [id, maxAttempts],
      ),

    /** Marks an unused, unexpired code used; false when another request used it first (or it expired). */
    async consume(id: string, now: Date): Promise<boolean> {
      const { rows } = await runSql<{ id: string }>(
        db,
        'UPDATE one_time_codes SET consumed_at = $2 WHERE id = $1 AND consumed_at IS NULL AND expires_at > $2 RETURNING id',
        [id, now],
      );
      return rows.length === 1;
    },

    /**
     * A link opened in a browser other than the one that asked: the link is spent and the row
     * takes a code instead, to be typed in the first browser (attempts start again).
     * Undefined when the link is unknown, used or expired.
     */
    handOff: (linkDigest: string, codeDigest: string, now: Date): Promise<OneTimeCodeRow | undefined> =>
      one(
        `UPDATE one_time_codes SET link_digest = NULL, code_digest = $2, attempts = 0, data = data || '{"handedOff":"1"}'
         WHERE link_digest = $1 AND consumed_at IS NULL AND expires_at > $3 RETURNING ${COLUMNS}`,
        [linkDigest, codeDigest, now],
      ),

    /** Uses a link in the browser that asked: the row, or undefined when unknown, used or expired. */
    consumeLink: (linkDigest: string, now: Date): Promise<OneTimeCodeRow | undefined> =>
      one(
        `UPDATE one_time_codes SET consumed_at = $2
         WHERE link_digest = $1 AND consumed_at IS NULL AND expires_at > $2 RETURNING ${COLUMNS}`,
        [linkDigest, now],
      ),

    /** Voids every code of a purpose for a subject (a phone number removed, a factor turned off). */
    async revoke(purpose: CodePurpose, subject: string): Promise<void> {
      await runSql(db, 'DELETE FROM one_time_codes WHERE purpose = $1 AND subject = $2', [purpose, subject]);
    },

    async deleteExpired(now = new Date()): Promise<number> {
      return (await runSql(db, 'DELETE FROM one_time_codes WHERE expires_at < $1', [now])).affected;
    },
  };
}

export type OneTimeCodesRepository = ReturnType<typeof createOneTimeCodesRepository>;
