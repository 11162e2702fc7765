import type { Storage } from '../storage/storage.js';
import type { AuditLog } from '../security/audit.js';
import { recordAdminAction, type AdminActor } from '../security/admin-actor.js';
import { NotFoundError } from '../errors/domain-errors.js';
import { userOrNotFound } from '../accounts/user-lookup.js';
import type { FederationService, LinkedIdentity } from '../federation/federation.service.js';
import { keepsSignInMethod } from '../federation/sign-in-methods.js';

/**
 * A user's linked upstream identities, for admins (issue 17). Unlike the person's own unlink, an
 * admin's may remove the last way to sign in: admins already can (deleting a connection removes
 * its identities) and can give the account a password or a reset link afterwards; the audit
 * event says when the account was left without one (docs/decisions.md).
 */
export function createIdentitiesAdmin(deps: {
  storage: Storage;
  audit: AuditLog;
  federation: Pick<FederationService, 'listIdentities'>;
}) {
  const { storage, audit, federation } = deps;
  return {
    async list(userId: string): Promise<LinkedIdentity[]> {
      await userOrNotFound(storage, userId);
      return federation.listIdentities(userId);
    },

    /**
     * Removes the user's identity at the connection; NotFoundError when the user or the link does
     * not exist. Says whether the user still has a way to sign in.
     */
    async unlink(userId: string, connectionId: string, actor: AdminActor): Promise<{ signInMethodLeft: boolean }> {
      return storage.transaction(async (tx) => {
        await userOrNotFound(tx, userId);
        const keeps = await keepsSignInMethod(tx, userId, connectionId);
        if (!(await tx.identities.unlink(userId, connectionId))) throw new NotFoundError('linked identity');
        await recordAdminAction(audit, tx, actor, 'federation.identity_unlinked', {
          subjectId: userId,
          details: { connection: connectionId, byAdmin: true, signInMethodLeft: keeps },
        });
        return { signInMethodLeft: keeps };
      });
    },
  };
}
