import type { Storage } from '../storage/storage.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import type { AllowedApplication } from '../storage/consents.repository.js';

/**
 * The third-party applications a user has allowed (their remembered consent), for the account
 * page: list them, and withdraw one. Withdrawing is the CLI's `grants revoke --email
 * --client-id` (oidc.revokeConsent: the consent record, every grant of the pair and all their
 * tokens), recorded in the same transaction.
 */
export function createAllowedApplications(deps: { storage: Storage; audit: AuditLog }) {
  const { storage, audit } = deps;
  return {
    list: (userId: string): Promise<AllowedApplication[]> => storage.consents.listAllowed(userId),

    /**
     * Withdraws the user's consent for a client they see in their list; false for any other
     * client (nothing changes): a first-party client's sign-ins are not consent to withdraw here.
     */
    async revoke(userId: string, clientId: string, origin: RequestOrigin): Promise<boolean> {
      return storage.transaction(async (tx) => {
        const allowed = await tx.consents.listAllowed(userId);
        if (!allowed.some((app) => app.clientId === clientId)) return false;
        await tx.sessions.revokeConsent(userId, clientId);
        await audit
          .within(tx)
          .record('consent.revoked', { actorId: userId, subjectId: userId, clientId, details: { clientId } }, origin);
        return true;
      });
    },
  };
}
