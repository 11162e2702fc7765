import type { ClientsRepository } from '../storage/clients.repository.js';
import type { ClientRow } from '../storage/entities/client.entity.js';
import type { Repositories } from '../storage/storage.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';

/** Who decides, for the audit log. */
export interface ApprovalActor {
  actorId?: string | null;
  origin?: RequestOrigin;
}

/** 'not_pending': the client exists but is not waiting (already active, or admin-created). */
export type ApprovalOutcome = 'approved' | 'rejected' | 'not_found' | 'not_pending';

export interface PendingClient {
  id: string;
  name: string;
  redirectUris: string[];
  grantTypes: string[];
  scope: string;
  createdAt: Date;
}

export interface ClientApproval {
  listPending(): Promise<PendingClient[]>;
  /** A pending client becomes active: it may sign users in and obtain tokens. */
  approve(clientId: string, actor?: ApprovalActor): Promise<ApprovalOutcome>;
  /** A pending client is deleted, with its registration access token. */
  reject(clientId: string, actor?: ApprovalActor): Promise<ApprovalOutcome>;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

function summary(row: ClientRow): PendingClient {
  return {
    id: row.id,
    name: row.name,
    redirectUris: strings(row.metadata.redirect_uris),
    grantTypes: strings(row.metadata.grant_types),
    scope: typeof row.metadata.scope === 'string' ? row.metadata.scope : '',
    createdAt: row.createdAt,
  };
}

/**
 * The admin side of `registration.requireApproval`: dynamically registered clients wait
 * as 'pending' (refused by pending-clients.ts) until approved here. Each decision and
 * its audit event commit together.
 */
export function createClientApproval(deps: {
  clients: ClientsRepository;
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  audit: AuditLog;
}): ClientApproval {
  return {
    listPending: async () => (await deps.clients.listPending()).map(summary),

    approve: (clientId, actor = {}) => deps.transaction(async (tx) => {
      // Compare-and-set on the status: two admins approving at once record one approval.
      if (await tx.clients.setStatus(clientId, 'pending', 'active')) {
        await deps.audit.within(tx).record('client.approved', { actorId: actor.actorId ?? null, clientId }, actor.origin);
        return 'approved';
      }
      return (await tx.clients.find(clientId)) ? 'not_pending' : 'not_found';
    }),

    reject: (clientId, actor = {}) => deps.transaction(async (tx) => {
      const row = await tx.clients.find(clientId);
      if (!row) return 'not_found';
      if (row.status !== 'pending') return 'not_pending';
      if (!(await tx.clients.delete(clientId))) return 'not_found';
      // Its registration access token (and anything else naming it) goes with it.
      await tx.oidc.revokeClient(clientId);
      await deps.audit.within(tx).record('client.rejected', {
        actorId: actor.actorId ?? null, clientId, details: { name: row.name },
      }, actor.origin);
      return 'rejected';
    }),
  };
}
