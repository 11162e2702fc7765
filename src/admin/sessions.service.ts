import type { Storage } from '../storage/storage.js';
import type { AuditLog } from '../security/audit.js';
import { recordAdminAction, type AdminActor } from '../security/admin-actor.js';
import { userOrNotFound } from '../accounts/user-lookup.js';
import { NotFoundError } from '../errors/domain-errors.js';
import { describeDevice } from '../accounts/device.js';
import type { SessionsEnded } from '../accounts/user-sessions.js';

/**
 * A user's sign-in sessions and the grants (consents with their tokens) made in them. A
 * session's `id` is its stable uid (the row id changes at each sign-in and is what the
 * browser's cookie holds, so it is never shown). Clients of an ended session are told
 * (back-channel logout) once the change has committed.
 */
export function createSessionsAdmin(deps: { storage: Storage; audit: AuditLog; sessionsEnded: SessionsEnded }) {
  const { storage, audit } = deps;

  const user = (id: string) => userOrNotFound(storage, id);

  return {
    async sessions(userId: string) {
      await user(userId);
      return (await storage.sessions.listSessions(userId)).map((s) => ({
        ...s,
        id: s.uid,
        device: describeDevice(s.userAgent),
      }));
    },

    async grants(userId: string) {
      await user(userId);
      return storage.sessions.listGrants(userId);
    },

    /** Ends the session and revokes every grant made in it, with the refresh tokens under them. */
    async endSession(userId: string, sessionId: string, actor: AdminActor): Promise<void> {
      await user(userId);
      const ended = await storage.transaction(async (tx) => {
        const session = await tx.sessions.endSession(userId, sessionId);
        if (!session) throw new NotFoundError('session');
        await recordAdminAction(audit, tx, actor, 'session.revoked', {
          subjectId: userId,
          details: { session: sessionId },
        });
        return session;
      });
      deps.sessionsEnded([ended]);
    },

    /** Signs the user out everywhere: every session, grant and token. */
    async endAll(userId: string, actor: AdminActor): Promise<number> {
      await user(userId);
      const { removed, sessions } = await storage.transaction(async (tx) => {
        const everything = await tx.sessions.signOutEverywhere(userId);
        await recordAdminAction(audit, tx, actor, 'session.revoked', {
          subjectId: userId,
          details: { all: true, removed: everything.removed },
        });
        return everything;
      });
      deps.sessionsEnded(sessions);
      return removed;
    },

    async revokeGrant(userId: string, grantId: string, actor: AdminActor): Promise<void> {
      await user(userId);
      await storage.transaction(async (tx) => {
        if (!(await tx.sessions.revokeAccountGrant(userId, grantId))) throw new NotFoundError('grant');
        await recordAdminAction(audit, tx, actor, 'grant.revoked', { subjectId: userId, details: { grant: grantId } });
      });
    },
  };
}
