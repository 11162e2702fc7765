import type { Storage } from '../storage/storage.js';
import type { AuditLog } from '../security/audit.js';
import { recordAdminAction, type AdminActor } from './actor.js';
import { userOrNotFound } from './lookups.js';
import { NotFoundError } from './errors.js';

/** A user's sign-in sessions and the grants (consents with their tokens) made in them. */
export function createSessionsAdmin(deps: { storage: Storage; audit: AuditLog }) {
  const { storage, audit } = deps;

  const user = (id: string) => userOrNotFound(storage, id);

  return {
    async sessions(userId: string) {
      await user(userId);
      return storage.oidc.listSessions(userId);
    },

    async grants(userId: string) {
      await user(userId);
      return storage.oidc.listGrants(userId);
    },

    /** Ends the session and revokes every grant made in it, with the refresh tokens under them. */
    async endSession(userId: string, sessionId: string, actor: AdminActor): Promise<void> {
      await user(userId);
      await storage.transaction(async (tx) => {
        if (!(await tx.oidc.endSession(userId, sessionId))) throw new NotFoundError('session');
        await recordAdminAction(audit, tx, actor, 'session.revoked', { subjectId: userId, details: { session: sessionId } });
      });
    },

    /** Signs the user out everywhere: every session, grant and token. */
    async endAll(userId: string, actor: AdminActor): Promise<number> {
      await user(userId);
      return storage.transaction(async (tx) => {
        const removed = await tx.oidc.revokeAccount(userId);
        await recordAdminAction(audit, tx, actor, 'session.revoked', { subjectId: userId, details: { all: true, removed } });
        return removed;
      });
    },

    async revokeGrant(userId: string, grantId: string, actor: AdminActor): Promise<void> {
      await user(userId);
      await storage.transaction(async (tx) => {
        if (!(await tx.oidc.revokeAccountGrant(userId, grantId))) throw new NotFoundError('grant');
        await recordAdminAction(audit, tx, actor, 'grant.revoked', { subjectId: userId, details: { grant: grantId } });
      });
    },
  };
}

export type SessionsAdmin = ReturnType<typeof createSessionsAdmin>;
