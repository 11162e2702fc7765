import type { EntityManager } from 'typeorm';
import { runSql } from './data-source.js';
import { storableForm } from './storable-text.js';

export type StoredPayload = Record<string, unknown>;

export interface UpsertInput {
  model: string;
  id: string;
  payload: StoredPayload;
  expiresInSeconds: number | undefined;
}

export type ConsumeOutcome =
  | { outcome: 'consumed' }
  | { outcome: 'already-consumed'; grantId: string | null }
  | { outcome: 'missing' };

interface PayloadRecord {
  payload: StoredPayload;
  consumed_at: Date | null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function withConsumed(row: PayloadRecord | undefined): StoredPayload | undefined {
  if (!row) return undefined;
  if (!row.consumed_at) return row.payload;
  return { ...row.payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) };
}

const LIVE = '(expires_at IS NULL OR expires_at > now())';

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
 * Where a Session row keeps what we record about its use (ip, user agent, last seen). The
 * provider ignores payload keys it does not know (pickPayload, lib/models/base_model.js) and
 * rewrites the payload when it saves a session, so upsert carries this key over.
 */
export const SESSION_ACTIVITY = 'gatehouseActivity';

/** How the browser that holds a session was last seen. */
export interface SessionActivity {
  ip: string | null;
  userAgent: string | null;
  lastSeenAt: Date | null;
}

/** A session as the account page and the admin API list it. */
export interface SessionSummary extends SessionActivity {
  /** The session's stable uid (its row id changes at each sign-in; the cookie holds that one). */
  uid: string;
  clientIds: string[];
  authTime: number | null;
  createdAt: Date;
  expiresAt: Date | null;
  /** A browser-session cookie ("Keep me signed in" unchecked). */
  transient: boolean;
}

/** A session just deleted: enough to tell its clients (OIDC Back-Channel Logout 1.0). */
export interface EndedSession {
  uid: string;
  accountId: string;
  /** Each client signed in through the session, with the `sid` it was given. */
  clients: Array<{ clientId: string; sid: string | null }>;
}

function endedSession(payload: StoredPayload): EndedSession | undefined {
  const uid = str(payload.uid);
  const accountId = str(payload.accountId);
  if (!uid || !accountId) return undefined;
  const authorizations = (payload.authorizations ?? {}) as Record<string, { sid?: unknown }>;
  return {
    uid, accountId, clients: Object.entries(authorizations).map(([clientId, a]) => ({ clientId, sid: str(a?.sid) })),
  };
}

const endedSessions = (rows: Array<{ model: string; payload: StoredPayload }>): EndedSession[] =>
  rows.filter((r) => r.model === 'Session').map((r) => endedSession(r.payload)).filter((s): s is EndedSession => s !== undefined);

/**
 * Deletes the chosen Session rows of an account (a CTE named `s` with their ids and payloads)
 * and every grant made in them with all the tokens issued under them.
 */
const END_SESSIONS = `
  g AS (SELECT a.value->>'grantId' AS id FROM s, jsonb_each(COALESCE(s.payload->'authorizations', '{}'::jsonb)) AS a)
  DELETE FROM oidc_payloads
  WHERE (model = 'Session' AND id IN (SELECT id FROM s))
     OR grant_id IN (SELECT id FROM g) OR (model = 'Grant' AND id IN (SELECT id FROM g))
  RETURNING model, payload`;

/**
 * PostgreSQL text and jsonb cannot hold U+0000 (errors 22021, 22P05). Such a key was never
 * stored, so a lookup by it finds nothing; a request parameter carrying one (state, nonce…),
 * or a lone surrogate, is stored with U+FFFD instead of failing the request with a 500
 * (requests are checked before this: storable-text.ts; this is the store's own guard).
 */
const hasNul = (value: string) => value.includes('\u0000');
const withoutNul = (_key: string, value: unknown) => (typeof value === 'string' ? storableForm(value) : value);

/** Where a rotated refresh token's row names its successor's id (refresh reuse grace). */
export const ROTATED_TO = 'gatehouse_rotated_to';

/** SQL for oidc-provider's models, all in `oidc_payloads`. The adapter translates onto this. */
export function createOidcPayloadRepository(db: EntityManager) {
  const one = async (where: string, params: string[]) => {
    if (params.some(hasNul)) return undefined;
    const { rows } = await runSql<PayloadRecord>(
      db,
      `SELECT payload, consumed_at FROM oidc_payloads WHERE ${where} AND ${LIVE} LIMIT 1`,
      params,
    );
    return withConsumed(rows[0]);
  };

  /** What revokeAccount does, answering with the sessions it ended (to tell their clients). */
  const signOutEverywhere = async (accountId: string): Promise<{ removed: number; sessions: EndedSession[] }> => {
    const { rows, affected } = await runSql<{ model: string; payload: StoredPayload }>(db,
      'DELETE FROM oidc_payloads WHERE account_id = $1 RETURNING model, payload', [accountId]);
    return { removed: affected || rows.length, sessions: endedSessions(rows) };
  };

  return {
    find: (model: string, id: string) => one('model = $1 AND id = $2', [model, id]),
    /** One id looked up as each of several models, in one statement: the live rows found, by model. */
    async findAmong(models: readonly string[], id: string): Promise<Map<string, StoredPayload>> {
      if (hasNul(id)) return new Map();
      const { rows } = await runSql<PayloadRecord & { model: string }>(db,
        `SELECT model, payload, consumed_at FROM oidc_payloads WHERE model = ANY($1::text[]) AND id = $2 AND ${LIVE}`, [models, id]);
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
      // Joins, not a UNION of subqueries: PostgreSQL plans this in about a fifth of the time
      // (EXPLAIN, 20,000 rows per model), and it plans every unnamed statement anew.
      const { rows } = await runSql<PayloadRecord & {
        model: string; grant_id: string | null; grant_payload: StoredPayload | null; grant_consumed_at: Date | null;
        session_uid: string | null; session_payload: StoredPayload | null; session_consumed_at: Date | null;
      }>(db, `
        SELECT t.model, t.payload, t.consumed_at,
               g.id AS grant_id, g.payload AS grant_payload, g.consumed_at AS grant_consumed_at,
               s.uid AS session_uid, s.payload AS session_payload, s.consumed_at AS session_consumed_at
        FROM oidc_payloads t
        LEFT JOIN oidc_payloads g ON g.model = 'Grant' AND g.id = t.grant_id AND (g.expires_at IS NULL OR g.expires_at > now())
        LEFT JOIN oidc_payloads s ON s.model = 'Session' AND s.uid = t.payload->>'sessionUid' AND (s.expires_at IS NULL OR s.expires_at > now())
        WHERE t.model = ANY($1::text[]) AND t.id = $2 AND (t.expires_at IS NULL OR t.expires_at > now())`,
      [models, id]);
      for (const row of rows) {
        const payload = withConsumed(row);
        if (payload) result.found.set(row.model, payload);
        const grant = withConsumed(row.grant_payload ? { payload: row.grant_payload, consumed_at: row.grant_consumed_at } : undefined);
        if (grant && row.grant_id) result.grants.set(row.grant_id, grant);
        const session = withConsumed(row.session_payload ? { payload: row.session_payload, consumed_at: row.session_consumed_at } : undefined);
        if (session && row.session_uid) result.sessionsByUid.set(row.session_uid, session);
      }
      return result;
    },
    findByUid: (model: string, uid: string) => one('model = $1 AND uid = $2', [model, uid]),
    findByUserCode: (model: string, userCode: string) => one('model = $1 AND user_code = $2', [model, userCode]),

    async upsert({ model, id, payload, expiresInSeconds }: UpsertInput): Promise<void> {
      // consumed_at is not touched on conflict: a re-saved token must stay consumed.
      await runSql(db, `
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
        model, id, JSON.stringify(payload, withoutNul), str(payload.grantId), str(payload.userCode), str(payload.uid),
        str(payload.accountId), expiresInSeconds === undefined ? null : Math.max(0, Math.ceil(expiresInSeconds)),
      ]);
    },

    /**
     * Atomic compare-and-set: of any number of concurrent callers exactly one sees
     * 'consumed'. oidc-provider reads `consumed` and then calls consume(), which alone
     * is not atomic (lib/helpers/grant_source.js, lib/actions/grants/refresh_token.js).
     */
    async consume(model: string, id: string): Promise<ConsumeOutcome> {
      const { affected } = await runSql(db,
        'UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL',
        [model, id]);
      if (affected === 1) return { outcome: 'consumed' };
      const { rows } = await runSql<{ grant_id: string | null }>(db,
        'SELECT grant_id FROM oidc_payloads WHERE model = $1 AND id = $2', [model, id]);
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
      const { affected } = await runSql(db, `
        DELETE FROM oidc_payloads s USING oidc_payloads t
        WHERE t.model = $1 AND t.id = $2 AND t.consumed_at > now() - make_interval(secs => $3::int)
          AND s.model = $1 AND s.id = t.payload->>'${ROTATED_TO}' AND s.grant_id = t.grant_id
          AND s.consumed_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > now())`,
      [model, id, graceSeconds]);
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
      await runSql(db,
        `DELETE FROM oidc_payloads WHERE grant_id = $1 OR (model = 'Grant' AND id = $1)`, [grantId]);
    },

    /**
     * Withdraws an account's consent for a client: the remembered consent (consents table) and
     * every Grant of the pair with all it issued, in one statement. The one way consent is
     * withdrawn: the CLI (`grants revoke --email --client-id`) and the account page use it.
     * Returns how many rows went (0: there was no consent to withdraw).
     */
    async revokeConsent(accountId: string, clientId: string): Promise<number> {
      if (hasNul(accountId) || hasNul(clientId)) return 0;
      const { rows } = await runSql<{ removed: string }>(db, `
        WITH consent AS (DELETE FROM consents WHERE account_id::text = $1 AND client_id = $2 RETURNING 1),
        grants AS (
          SELECT id FROM oidc_payloads WHERE account_id = $1 AND model = 'Grant' AND payload->>'clientId' = $2),
        gone AS (
          DELETE FROM oidc_payloads
          WHERE grant_id IN (SELECT id FROM grants) OR (model = 'Grant' AND id IN (SELECT id FROM grants))
          RETURNING 1)
        SELECT (SELECT count(*) FROM consent) + (SELECT count(*) FROM gone) AS removed`,
      [accountId, clientId]);
      return Number(rows[0]?.removed ?? 0);
    },

    async listGrants(accountId: string): Promise<Array<{ id: string; clientId: string; scope: string; createdAt: Date }>> {
      const { rows } = await runSql<{ id: string; client_id: string; scope: string | null; created_at: Date }>(db, `
        SELECT id, payload->>'clientId' AS client_id, payload#>>'{openid,scope}' AS scope, created_at
        FROM oidc_payloads WHERE account_id = $1 AND model = 'Grant' AND ${LIVE}
        ORDER BY created_at`, [accountId]);
      return rows.map((r) => ({ id: r.id, clientId: r.client_id, scope: r.scope ?? '', createdAt: r.created_at }));
    },

    /** The account's live sessions, newest first, with the clients signed in through each. */
    async listSessions(accountId: string): Promise<SessionSummary[]> {
      const { rows } = await runSql<{
        uid: string; clients: string[] | null; login_ts: string | null; created_at: Date; expires_at: Date | null;
        transient: boolean | null; activity: { ip?: string; userAgent?: string; lastSeenAt?: string } | null;
      }>(db, `
        SELECT uid, ARRAY(SELECT jsonb_object_keys(COALESCE(payload->'authorizations', '{}'::jsonb))) AS clients,
               payload->>'loginTs' AS login_ts, created_at, expires_at, (payload->>'transient')::boolean AS transient,
               payload->'${SESSION_ACTIVITY}' AS activity
        FROM oidc_payloads WHERE account_id = $1 AND model = 'Session' AND uid IS NOT NULL AND ${LIVE}
        ORDER BY created_at DESC`, [accountId]);
      return rows.map((r) => ({
        uid: r.uid, clientIds: r.clients ?? [], authTime: r.login_ts ? Number(r.login_ts) : null, createdAt: r.created_at,
        expiresAt: r.expires_at, transient: r.transient === true,
        ip: r.activity?.ip ?? null, userAgent: r.activity?.userAgent ?? null, lastSeenAt: r.activity?.lastSeenAt ? new Date(r.activity.lastSeenAt) : null,
      }));
    },

    /**
     * Records that a session was used: where from, and when. Its row then lives until
     * `idleSeconds` from now, never past the absolute end the provider gave it (payload exp).
     */
    async recordSessionActivity(sessionId: string, activity: { ip: string | null; userAgent: string | null }, idleSeconds: number): Promise<void> {
      if (hasNul(sessionId)) return;
      await runSql(db, `
        UPDATE oidc_payloads
        SET payload = payload || jsonb_build_object('${SESSION_ACTIVITY}', jsonb_build_object('ip', $2::text, 'userAgent', $3::text, 'lastSeenAt', now())),
            expires_at = LEAST(COALESCE(to_timestamp((payload->>'exp')::bigint), expires_at), now() + make_interval(secs => $4::int))
        WHERE model = 'Session' AND id = $1 AND ${LIVE}`,
      [sessionId, activity.ip?.replaceAll('\u0000', '') ?? null, activity.userAgent?.replaceAll('\u0000', '').slice(0, 512) ?? null, Math.ceil(idleSeconds)]);
    },

    /**
     * Ends one session of the account (by its uid): the session row, and every grant made in
     * it with all the tokens issued under them (a revoked session leaves no refresh token alive).
     */
    async endSession(accountId: string, sessionUid: string): Promise<EndedSession | undefined> {
      if (hasNul(sessionUid)) return undefined;
      const { rows } = await runSql<{ model: string; payload: StoredPayload }>(db, `
        WITH s AS (SELECT id, payload FROM oidc_payloads WHERE model = 'Session' AND uid = $2 AND account_id = $1),
        ${END_SESSIONS}`, [accountId, sessionUid]);
      return endedSessions(rows)[0];
    },

    /** Ends every session of the account but one (the browser asking), as endSession does. */
    async endOtherSessions(accountId: string, keepUid: string): Promise<EndedSession[]> {
      const { rows } = await runSql<{ model: string; payload: StoredPayload }>(db, `
        WITH s AS (SELECT id, payload FROM oidc_payloads WHERE model = 'Session' AND account_id = $1 AND uid IS DISTINCT FROM $2),
        ${END_SESSIONS}`, [accountId, keepUid.replaceAll('\u0000', '')]);
      return endedSessions(rows);
    },

    /** Revokes one grant of the account and everything issued under it; false if it is not theirs. */
    async revokeAccountGrant(accountId: string, grantId: string): Promise<boolean> {
      if (hasNul(grantId)) return false;
      const { affected } = await runSql(db, `
        DELETE FROM oidc_payloads
        WHERE (grant_id = $2 OR (model = 'Grant' AND id = $2))
          AND EXISTS (SELECT 1 FROM oidc_payloads WHERE model = 'Grant' AND id = $2 AND account_id = $1)`, [accountId, grantId]);
      return affected > 0;
    },

    /**
     * Everything a deleted or rejected client holds (RFC 7592 §2.3): its grants, the tokens
     * and codes under them, and every other row naming it (client credentials tokens,
     * registration access tokens, pushed requests). Unindexed on clientId: rare, admin-driven.
     */
    async revokeClient(clientId: string): Promise<number> {
      if (hasNul(clientId)) return 0;
      const { affected } = await runSql(db, `
        WITH grants AS (SELECT id FROM oidc_payloads WHERE model = 'Grant' AND payload->>'clientId' = $1)
        DELETE FROM oidc_payloads
        WHERE payload->>'clientId' = $1 OR grant_id IN (SELECT id FROM grants)`, [clientId]);
      return affected;
    },

    /** A client's client_credentials access tokens (its admin API tokens among them); returns how many. */
    async revokeClientCredentials(clientId: string): Promise<number> {
      if (hasNul(clientId)) return 0;
      const { affected } = await runSql(db, `DELETE FROM oidc_payloads WHERE model = 'ClientCredentials' AND payload->>'clientId' = $1`, [clientId]);
      return affected;
    },

    /** Ends every session and token of an account (disabled or deleted user). */
    async revokeAccount(accountId: string): Promise<number> {
      return (await signOutEverywhere(accountId)).removed;
    },

    signOutEverywhere,

    /** Live rows of one model, oldest first (short lists only: initial access tokens). */
    async listLive(model: string): Promise<Array<{ id: string; payload: StoredPayload; expiresAt: Date | null; createdAt: Date }>> {
      const { rows } = await runSql<{ id: string; payload: StoredPayload; expires_at: Date | null; created_at: Date }>(db,
        `SELECT id, payload, expires_at, created_at FROM oidc_payloads WHERE model = $1 AND ${LIVE} ORDER BY created_at`, [model]);
      return rows.map((r) => ({ id: r.id, payload: r.payload, expiresAt: r.expires_at, createdAt: r.created_at }));
    },

    /**
     * Adds fields of our own to a stored payload. oidc-provider keeps only its own payload
     * keys when it reads a row back (pickPayload in lib/models/base_model.js), so these are
     * invisible to it.
     */
    async annotate(model: string, id: string, fields: Record<string, string>): Promise<void> {
      await runSql(db, 'UPDATE oidc_payloads SET payload = payload || $3::jsonb WHERE model = $1 AND id = $2',
        [model, id, JSON.stringify(fields, withoutNul)]);
    },

    /** Deletes rows past their expiry; returns how many. */
    async purgeExpired(): Promise<number> {
      const { affected } = await runSql(db,
        'DELETE FROM oidc_payloads WHERE expires_at IS NOT NULL AND expires_at <= now()', []);
      return affected;
    },
  };
}

export type OidcPayloadRepository = ReturnType<typeof createOidcPayloadRepository>;
