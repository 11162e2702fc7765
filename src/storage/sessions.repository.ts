import type { EntityManager } from 'typeorm';
import { runSql } from './data-source.js';
import { hasNul, LIVE, SESSION_ACTIVITY, str, type StoredPayload } from './oidc-rows.js';

/** How the browser that holds a session was last seen. */
interface SessionActivity {
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
    uid,
    accountId,
    clients: Object.entries(authorizations).map(([clientId, a]) => ({ clientId, sid: str(a?.sid) })),
  };
}

const endedSessions = (rows: Array<{ model: string; payload: StoredPayload }>): EndedSession[] =>
  rows
    .filter((r) => r.model === 'Session')
    .map((r) => endedSession(r.payload))
    .filter((s): s is EndedSession => s !== undefined);

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
 * The sessions and grants of `oidc_payloads` as an account and the admin see them (the
 * account page, the admin API and console, the CLI), and the commands that end them for an
 * account or a client. The provider's own reads and writes are in oidc-store.repository.ts.
 */
export function createSessionsRepository(db: EntityManager) {
  /** What revokeAccount does, answering with the sessions it ended (to tell their clients). */
  const signOutEverywhere = async (accountId: string): Promise<{ removed: number; sessions: EndedSession[] }> => {
    const { rows, affected } = await runSql<{ model: string; payload: StoredPayload }>(
      db,
      'DELETE FROM oidc_payloads WHERE account_id = $1 RETURNING model, payload',
      [accountId],
    );
    return { removed: affected || rows.length, sessions: endedSessions(rows) };
  };

  return {
    /**
     * Withdraws an account's consent for a client: the remembered consent (consents table) and
     * every Grant of the pair with all it issued, in one statement. The one way consent is
     * withdrawn: the CLI (`grants revoke --email --client-id`) and the account page use it.
     * Returns how many rows went (0: there was no consent to withdraw).
     */
    async revokeConsent(accountId: string, clientId: string): Promise<number> {
      if (hasNul(accountId) || hasNul(clientId)) return 0;
      const { rows } = await runSql<{ removed: string }>(
        db,
        `
        WITH consent AS (DELETE FROM consents WHERE account_id::text = $1 AND client_id = $2 RETURNING 1),
        grants AS (
          SELECT id FROM oidc_payloads WHERE account_id = $1 AND model = 'Grant' AND payload->>'clientId' = $2),
        gone AS (
          DELETE FROM oidc_payloads
          WHERE grant_id IN (SELECT id FROM grants) OR (model = 'Grant' AND id IN (SELECT id FROM grants))
          RETURNING 1)
        SELECT (SELECT count(*) FROM consent) + (SELECT count(*) FROM gone) AS removed`,
        [accountId, clientId],
      );
      return Number(rows[0]?.removed ?? 0);
    },

    async listGrants(
      accountId: string,
    ): Promise<Array<{ id: string; clientId: string; scope: string; createdAt: Date }>> {
      const { rows } = await runSql<{ id: string; client_id: string; scope: string | null; created_at: Date }>(
        db,
        `
        SELECT id, payload->>'clientId' AS client_id, payload#>>'{openid,scope}' AS scope, created_at
        FROM oidc_payloads WHERE account_id = $1 AND model = 'Grant' AND ${LIVE}
        ORDER BY created_at`,
        [accountId],
      );
      return rows.map((r) => ({ id: r.id, clientId: r.client_id, scope: r.scope ?? '', createdAt: r.created_at }));
    },

    /** The account's live sessions, newest first, with the clients signed in through each. */
    async listSessions(accountId: string): Promise<SessionSummary[]> {
      const { rows } = await runSql<{
        uid: string;
        clients: string[] | null;
        login_ts: string | null;
        created_at: Date;
        expires_at: Date | null;
        transient: boolean | null;
        activity: { ip?: string; userAgent?: string; lastSeenAt?: string } | null;
      }>(
        db,
        `
        SELECT uid, ARRAY(SELECT jsonb_object_keys(COALESCE(payload->'authorizations', '{}'::jsonb))) AS clients,
               payload->>'loginTs' AS login_ts, created_at, expires_at, (payload->>'transient')::boolean AS transient,
               payload->'${SESSION_ACTIVITY}' AS activity
        FROM oidc_payloads WHERE account_id = $1 AND model = 'Session' AND uid IS NOT NULL AND ${LIVE}
        ORDER BY created_at DESC`,
        [accountId],
      );
      return rows.map((r) => ({
        uid: r.uid,
        clientIds: r.clients ?? [],
        authTime: r.login_ts ? Number(r.login_ts) : null,
        createdAt: r.created_at,
        expiresAt: r.expires_at,
        transient: r.transient === true,
        ip: r.activity?.ip ?? null,
        userAgent: r.activity?.userAgent ?? null,
        lastSeenAt: r.activity?.lastSeenAt ? new Date(r.activity.lastSeenAt) : null,
      }));
    },

    /**
     * Records that a session was used: where from, and when. Its row then lives until
     * `idleSeconds` from now, never past the absolute end the provider gave it (payload exp).
     */
    async recordSessionActivity(
      sessionId: string,
      activity: { ip: string | null; userAgent: string | null },
      idleSeconds: number,
    ): Promise<void> {
      if (hasNul(sessionId)) return;
      await runSql(
        db,
        `
        UPDATE oidc_payloads
        SET payload = payload || jsonb_build_object('${SESSION_ACTIVITY}', jsonb_build_object('ip', $2::text, 'userAgent', $3::text, 'lastSeenAt', now())),
            expires_at = LEAST(COALESCE(to_timestamp((payload->>'exp')::bigint), expires_at), now() + make_interval(secs => $4::int))
        WHERE model = 'Session' AND id = $1 AND ${LIVE}`,
        [
          sessionId,
          activity.ip?.replaceAll('\u0000', '') ?? null,
          activity.userAgent?.replaceAll('\u0000', '').slice(0, 512) ?? null,
          Math.ceil(idleSeconds),
        ],
      );
    },

    /**
     * Ends one session of the account (by its uid): the session row, and every grant made in
     * it with all the tokens issued under them (a revoked session leaves no refresh token alive).
     */
    async endSession(accountId: string, sessionUid: string): Promise<EndedSession | undefined> {
      if (hasNul(sessionUid)) return undefined;
      const { rows } = await runSql<{ model: string; payload: StoredPayload }>(
        db,
        `
        WITH s AS (SELECT id, payload FROM oidc_payloads WHERE model = 'Session' AND uid = $2 AND account_id = $1),
        ${END_SESSIONS}`,
        [accountId, sessionUid],
      );
      return endedSessions(rows)[0];
    },

    /** Ends every session of the account but one (the browser asking), as endSession does. */
    async endOtherSessions(accountId: string, keepUid: string): Promise<EndedSession[]> {
      const { rows } = await runSql<{ model: string; payload: StoredPayload }>(
        db,
        `
        WITH s AS (SELECT id, payload FROM oidc_payloads WHERE model = 'Session' AND account_id = $1 AND uid IS DISTINCT FROM $2),
        ${END_SESSIONS}`,
        [accountId, keepUid.replaceAll('\u0000', '')],
      );
      return endedSessions(rows);
    },

    /** Revokes one grant of the account and everything issued under it; false if it is not theirs. */
    async revokeAccountGrant(accountId: string, grantId: string): Promise<boolean> {
      if (hasNul(grantId)) return false;
      const { affected } = await runSql(
        db,
        `
        DELETE FROM oidc_payloads
        WHERE (grant_id = $2 OR (model = 'Grant' AND id = $2))
          AND EXISTS (SELECT 1 FROM oidc_payloads WHERE model = 'Grant' AND id = $2 AND account_id = $1)`,
        [accountId, grantId],
      );
      return affected > 0;
    },

    /**
     * Everything a deleted or rejected client holds (RFC 7592 §2.3): its grants, the tokens
     * and codes under them, and every other row naming it (client credentials tokens,
     * registration access tokens, pushed requests). Unindexed on clientId: rare, admin-driven.
     */
    async revokeClient(clientId: string): Promise<number> {
      if (hasNul(clientId)) return 0;
      const { affected } = await runSql(
        db,
        `
        WITH grants AS (SELECT id FROM oidc_payloads WHERE model = 'Grant' AND payload->>'clientId' = $1)
        DELETE FROM oidc_payloads
        WHERE payload->>'clientId' = $1 OR grant_id IN (SELECT id FROM grants)`,
        [clientId],
      );
      return affected;
    },

    /** A client's client_credentials access tokens (its admin API tokens among them); returns how many. */
    async revokeClientCredentials(clientId: string): Promise<number> {
      if (hasNul(clientId)) return 0;
      const { affected } = await runSql(
        db,
        `DELETE FROM oidc_payloads WHERE model = 'ClientCredentials' AND payload->>'clientId' = $1`,
        [clientId],
      );
      return affected;
    },

    /** Ends every session and token of an account (disabled or deleted user). */
    async revokeAccount(accountId: string): Promise<number> {
      return (await signOutEverywhere(accountId)).removed;
    },

    signOutEverywhere,
  };
}

export type SessionsRepository = ReturnType<typeof createSessionsRepository>;
