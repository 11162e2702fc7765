import type { Repositories, Storage } from '../storage/storage.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import type { EndedSession, SessionSummary } from '../storage/sessions.repository.js';
import { describeDevice, type DeviceDescription } from './device.js';

/** A session as a person reads it: which browser, where from, since and until when. */
export interface SessionView extends SessionSummary {
  device: DeviceDescription;
}

/** Why the other sessions of a user ended, as the 'session.ended' event records it. */
export type OthersEndedReason = 'others-ended-by-user' | 'password-changed' | 'factor-changed';

/** Told about sessions once their end has committed (back-channel logout, src/oidc/backchannel-logout.ts). */
export type SessionsEnded = (sessions: EndedSession[]) => void;

/**
 * A user's own sessions, for the account page: list them, end one, end all others, or sign
 * out everywhere (every session, grant and refresh token). Each end and its audit event are
 * one transaction; the clients of the ended sessions are told after it commits.
 */
export function createUserSessions(deps: { storage: Storage; audit: AuditLog; sessionsEnded: SessionsEnded }) {
  const { storage, audit } = deps;

  /** Runs `end` and records it in one transaction (nothing to record when nothing ended), then tells the clients. */
  const ended = async (
    userId: string,
    origin: RequestOrigin,
    reason: string,
    end: (tx: Repositories) => Promise<EndedSession[]>,
    always = false,
  ) => {
    const sessions = await storage.transaction(async (tx) => {
      const gone = await end(tx);
      if (gone.length > 0 || always) {
        await audit.within(tx).record(
          'session.ended',
          {
            actorId: userId,
            subjectId: userId,
            details: { reason, sessions: gone.map((s) => s.uid) },
          },
          origin,
        );
      }
      return gone;
    });
    deps.sessionsEnded(sessions);
    return sessions;
  };

  return {
    async list(userId: string): Promise<SessionView[]> {
      return (await storage.sessions.listSessions(userId)).map((s) => ({ ...s, device: describeDevice(s.userAgent) }));
    },

    /**
     * Ends one of the user's sessions; false when the id names none of theirs. `reason` is
     * 'logout' when it is the browser's own session and the user pressed "Sign out".
     */
    async endOne(
      userId: string,
      sessionUid: string,
      origin: RequestOrigin,
      reason: 'ended-by-user' | 'logout' = 'ended-by-user',
    ): Promise<boolean> {
      const gone = await ended(userId, origin, reason, async (tx) => {
        const session = await tx.sessions.endSession(userId, sessionUid);
        return session ? [session] : [];
      });
      return gone.length > 0;
    },

    /**
     * Ends every session but the one asking, with the grants made in them and every token
     * issued under those (refresh tokens included); returns how many ended. `reason` says what
     * asked: the sessions list, or "sign out my other devices" with a changed password or
     * factor (ASVS 5.0 V7.4.3).
     */
    async endOthers(
      userId: string,
      keepUid: string,
      origin: RequestOrigin,
      reason: OthersEndedReason = 'others-ended-by-user',
    ): Promise<number> {
      return (await ended(userId, origin, reason, (tx) => tx.sessions.endOtherSessions(userId, keepUid))).length;
    },

    /** Every session, grant and token of the user, this browser's included. */
    async signOutEverywhere(userId: string, origin: RequestOrigin): Promise<number> {
      return (
        await ended(
          userId,
          origin,
          'signed-out-everywhere',
          async (tx) => (await tx.sessions.signOutEverywhere(userId)).sessions,
          true,
        )
      ).length;
    },
  };
}

export type UserSessions = ReturnType<typeof createUserSessions>;
