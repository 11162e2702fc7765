import type { AuditAction, AuditLog, RequestOrigin } from './audit.js';
import type { Repositories } from '../storage/storage.js';

// Beside the audit log it writes to: the services acting for admins live in admin/, clients/
// and roles/, and a domain folder never imports admin/.

/** Who performs an admin action: an admin user through the console client, or a machine client. */
export interface AdminActor {
  /** The admin user; null for a client_credentials (machine) admin. */
  userId: string | null;
  /** The client the admin acts through: the console's, or the machine client itself; null on the host's CLI. */
  clientId: string | null;
  origin: RequestOrigin;
}

/** The action's subject: the user it changed, or details naming the client, role, key. */
export interface AuditSubject {
  subjectId?: string | null;
  details?: Record<string, unknown>;
}

/** Records an admin action on the transaction that made the change, so both commit or neither. */
export function recordAdminAction(
  audit: AuditLog,
  tx: Pick<Repositories, 'audit'>,
  actor: AdminActor,
  action: AuditAction,
  subject: AuditSubject = {},
): Promise<void> {
  return audit.within(tx).record(
    action,
    {
      actorId: actor.userId,
      clientId: actor.clientId,
      subjectId: subject.subjectId ?? null,
      details: subject.details ?? {},
    },
    actor.origin,
  );
}
