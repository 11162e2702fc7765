import type { EntityManager } from 'typeorm';
import { runSql } from './data-source.js';
import {
  hasNul,
  LIVE,
  SESSION_ACTIVITY,
  str,
  withConsumed,
  withoutNul,
  type PayloadRecord,
  type StoredPayload,
} from './oidc-rows.js';

export interface UpsertInput {
  model: string;
  id: string;
  payload: StoredPayload;
  expiresInSeconds: number | undefined;
}

export type ConsumeOutcome =
  { outcome: 'consumed' } | { outcome: 'already-consumed'; grantId: string | null } | { outcome: 'missing' };

/** A token lookup and the rows it leads to, read at the same moment (findAmongWithRelated). */
export interface FoundWithRelated {
  /** The live rows found, by model. */
  found: Map<string, StoredPayload>;
  /** Live Grant rows named by them, by id. */
  grants: Map<string, StoredPayload>;
  /** Live Session rows they name, by uid (the uid is unique per model). */
  sessionsByUid: Map<string, StoredPayload>;
}

/**
 * `column` is one of `models`, from parameter `$first` on. A token lookup names one or two models
 * (an access token is also looked for as a client-credentials one): as two parameters,
 * PostgreSQL keeps one generic plan for the prepared statement; with `= ANY($n::text[])` it
 * judged the generic plan dearer and planned the join again on every execution (188 against 58 µs
 * of backend CPU per lookup on 60,000 rows; docs/benchmarks.md, issue 20).
 */
function modelAmong(column: string, models: readonly string[], first: number): { sql: string; params: unknown[] } {
  const [one, two = one] = models;
  if (models.length > 2 || one === undefined) return { sql: `${column} = ANY($${first}::text[])`, params: [models] };
  return { sql: `${column} IN ($${first}, $${first + 1})`, params: [one, two] };
}

/** Where a rotated refresh token's row names its successor's id (refresh reuse grace). */
export const ROTATED_TO = 'gatehouse_rotated_to';

/**
 * SQL for oidc-provider's models, all in `oidc_payloads`: the store the adapter translates
 * onto (src/oidc/adapter.ts), joined by the token transaction. What an account or an admin
 * reads and ends is in sessions.repository.ts.
 */
export function createOidcStoreRepository(db: EntityManager) {
  const one = async (where: string, params: string[]) => {
    if (params.some(hasNul)) return undefined;
    const { rows } = await runSql<PayloadRecord>(
      db,
      `SELECT payload, consumed_at FROM oidc_payloads WHERE ${where} AND ${LIVE} LIMIT 1`,
      params,
    );
    return withConsumed(rows[0]);
  };

  return {
    find: (model: string, id: string) => one('model = $1 AND id = $2', [model, id]),
    /** One id looked up as each of several models, in one statement: the live rows found, by model. */
    async findAmong(models: readonly string[], id: string): Promise<Map<string, StoredPayload>> {
      if (hasNul(id)) return new Map();
      const among = modelAmong('model', models, 2);
      const { rows } = await runSql<PayloadRecord & { model: string }>(
        db,
        `SELECT model, payload, consumed_at FROM oidc_payloads WHERE id = $1 AND ${among.sql} AND ${LIVE}`,
        [id, ...among.params],
      );
      const found = new Map<string, StoredPayload>();
      for (const row of rows) {
        const payload = withConsumed(row);
        if (payload) found.set(row.model, payload);
      }
      return found;
    },
    /**
     * findAmong, and in the same statement the live Grant each found row names and the live
     * Session rows with the uid it names: the rows oidc-provider reads next for a token it
     * was shown (grant checks, expiresWithSession, sid). One round trip instead of three.
     */
    async findAmongWithRelated(models: readonly string[], id: string): Promise<FoundWithRelated> {
      const result: FoundWithRelated = { found: new Map(), grants: new Map(), sessionsByUid: new Map() };
      if (hasNul(id)) return result;
      const among = modelAmong('t.model', models, 2);
      // Joins, not a UNION of subqueries: PostgreSQL plans this in about a fifth of the time
      // (EXPLAIN, 20,000 rows per model), and it plans every unnamed statement anew.
      const { rows } = await runSql<
        PayloadRecord & {
          model: string;
          grant_id: string | null;
          grant_payload: StoredPayload | null;
          grant_consumed_at: Date | null;
          session_uid: string | null;
          session_payload: StoredPayload | null;
          session_consumed_at: Date | null;
        }
      >(
        db,
        `
        SELECT t.model, t.payload, t.consumed_at,
               g.id AS grant_id, g.payload AS grant_payload, g.consumed_at AS grant_consumed_at,
               s.uid AS session_uid, s.payload AS session_payload, s.consumed_at AS session_consumed_at
        FROM oidc_payloads t
        LEFT JOIN oidc_payloads g ON g.model = 'Grant' AND g.id = t.grant_id AND (g.expires_at IS NULL OR g.expires_at > now())
        LEFT JOIN oidc_payloads s ON s.model = 'Session' AND s.uid = t.payload->>'sessionUid' AND (s.expires_at IS NULL OR s.expires_at > now())
        WHERE t.id = $1 AND ${among.sql} AND (t.expires_at IS NULL OR t.expires_at > now())`,
        [id, ...among.params],
      );
      for (const row of rows) {
        const payload = withConsumed(row);
        if (payload) result.found.set(row.model, payload);
        const grant = withConsumed(
          row.grant_payload ? { payload: row.grant_payload, consumed_at: row.grant_consumed_at } : undefined,
        );
        if (grant && row.grant_id) result.grants.set(row.grant_id, grant);
        const session = withConsumed(
          row.session_payload ? { payload: row.session_payload, consumed_at: row.session_consumed_at } : undefined,
        );
        if (session && row.session_uid) result.sessionsByUid.set(row.session_uid, session);
      }
      return result;
    },
    findByUid: (model: string, uid: string) => one('model = $1 AND uid = $2', [model, uid]),
    findByUserCode: (model: string, userCode: string) => one('model = $1 AND user_code = $2', [model, userCode]),

    async upsert({ model, id, payload, expiresInSeconds }: UpsertInput): Promise<void> {
      // consumed_at is not touched on conflict: a re-saved token must stay consumed.
      await runSql(
        db,
        `
        INSERT INTO oidc_payloads (model, id, payload, grant_id, user_code, uid, account_id, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7,
                CASE WHEN $8::int IS NULL THEN NULL ELSE now() + make_interval(secs => $8::int) END)
        ON CONFLICT (model, id) DO UPDATE SET
          payload = CASE WHEN oidc_payloads.payload ? '${SESSION_ACTIVITY}'
                         THEN EXCLUDED.payload || jsonb_build_object('${SESSION_ACTIVITY}', oidc_payloads.payload->'${SESSION_ACTIVITY}')
                         ELSE EXCLUDED.payload END,
          grant_id = EXCLUDED.grant_id, user_code = EXCLUDED.user_code,
          uid = EXCLUDED.uid, account_id = EXCLUDED.account_id, expires_at = EXCLUDED.expires_at`,
        [
          model,
          id,
          JSON.stringify(payload, withoutNul),
          str(payload.grantId),
          str(payload.userCode),
          str(payload.uid),
          str(payload.accountId),
          expiresInSeconds === undefined ? null : Math.max(0, Math.ceil(expiresInSeconds)),
        ],
        // A token request's saves go out with its COMMIT (batched-transaction.ts).
        { deferrable: true },
      );
    },

    /**
     * Atomic compare-and-set: of any number of concurrent callers exactly one sees
     * 'consumed'. oidc-provider reads `consumed` and then calls consume(), which alone
     * is not atomic (lib/helpers/grant_source.js, lib/actions/grants/refresh_token.js).
     */
    async consume(model: string, id: string): Promise<ConsumeOutcome> {
      const { affected } = await runSql(
        db,
        'UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL',
        [model, id],
      );
      if (affected === 1) return { outcome: 'consumed' };
      const { rows } = await runSql<{ grant_id: string | null }>(
        db,
        'SELECT grant_id FROM oidc_payloads WHERE model = $1 AND id = $2',
        [model, id],
      );
      const row = rows[0];
      return row ? { outcome: 'already-consumed', grantId: row.grant_id } : { outcome: 'missing' };
    },

    /**
     * The refresh reuse grace: deletes the successor a token was rotated to, if the token was
     * consumed less than `graceSeconds` ago and its successor is live and unused. One statement,
     * so of two retries of one token at most one gets true (the second waits for the first's
     * delete and then finds nothing).
     */
    async voidUnusedSuccessor(model: string, id: string, graceSeconds: number): Promise<boolean> {
      if (hasNul(id)) return false;
      const { affected } = await runSql(
        db,
        `
        DELETE FROM oidc_payloads s USING oidc_payloads t
        WHERE t.model = $1 AND t.id = $2 AND t.consumed_at > now() - make_interval(secs => $3::int)
          AND s.model = $1 AND s.id = t.payload->>'${ROTATED_TO}' AND s.grant_id = t.grant_id
          AND s.consumed_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > now())`,
        [model, id, graceSeconds],
      );
      return affected === 1;
    },

    async destroy(model: string, id: string): Promise<void> {
      await runSql(db, 'DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', [model, id]);
    },

    async revokeByGrantId(model: string, grantId: string): Promise<void> {
      await runSql(db, 'DELETE FROM oidc_payloads WHERE model = $1 AND grant_id = $2', [model, grantId]);
    },

    /** Every row issued under a grant, and the Grant itself: what a detected replay revokes. */
    async revokeGrant(grantId: string): Promise<void> {
      await runSql(db, `DELETE FROM oidc_payloads WHERE grant_id = $1 OR (model = 'Grant' AND id = $1)`, [grantId]);
    },

    /** Live rows of one model, oldest first (short lists only: initial access tokens). */
    async listLive(
      model: string,
    ): Promise<Array<{ id: string; payload: StoredPayload; expiresAt: Date | null; createdAt: Date }>> {
      const { rows } = await runSql<{ id: string; payload: StoredPayload; expires_at: Date | null; created_at: Date }>(
        db,
        `SELECT id, payload, expires_at, created_at FROM oidc_payloads WHERE model = $1 AND ${LIVE} ORDER BY created_at`,
        [model],
      );
      return rows.map((r) => ({ id: r.id, payload: r.payload, expiresAt: r.expires_at, createdAt: r.created_at }));
    },

    /**
     * Adds fields of our own to a stored payload. oidc-provider keeps only its own payload
     * keys when it reads a row back (pickPayload in lib/models/base_model.js), so these are
     * invisible to it.
     */
    async annotate(model: string, id: string, fields: Record<string, string>): Promise<void> {
      await runSql(db, 'UPDATE oidc_payloads SET payload = payload || $3::jsonb WHERE model = $1 AND id = $2', [
        model,
        id,
        JSON.stringify(fields, withoutNul),
      ]);
    },

    /** Deletes rows past their expiry; returns how many. */
    async purgeExpired(): Promise<number> {
      const { affected } = await runSql(
        db,
        'DELETE FROM oidc_payloads WHERE expires_at IS NOT NULL AND expires_at <= now()',
        [],
      );
      return affected;
    },
  };
}

export type OidcStoreRepository = ReturnType<typeof createOidcStoreRepository>;
