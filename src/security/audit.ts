import type { AuditRepository, NewAuditEvent } from '../storage/audit.repository.js';

/** Where a request came from, as recorded with each security event. */
export interface RequestOrigin {
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
  /**
   * The client the user is signing in to (an interaction's client_id) or whose pages they are
   * using (the account client); recorded when the event itself names no client.
   */
  clientId?: string | null;
}

/** Security event names, one vocabulary for the log, the account page and the admin API. */
export type AuditAction =
  | 'signin.password.succeeded'
  | 'signin.password.failed'
  | 'signin.locked_out'
  | 'lockout.cleared'
  | 'ratelimit.exceeded'
  | 'signin.mfa.succeeded'
  | 'signin.mfa.failed'
  | 'signin.mfa.replayed'
  | 'signin.passkey.succeeded'
  | 'signin.passkey.failed'
  | 'mfa.totp.enrolled'
  | 'mfa.totp.removed'
  | 'mfa.recovery_codes.generated'
  | 'mfa.recovery_code.used'
  | 'mfa.webauthn.registered'
  | 'mfa.webauthn.renamed'
  | 'mfa.webauthn.removed'
  | 'mfa.webauthn.counter_regressed'
  | 'mfa.reset'
  | 'password.changed'
  | 'password.change_failed'
  | 'password.reset_requested'
  | 'password.reset'
  | 'signup.registered'
  | 'signup.address_taken'
  | 'signin.email_unverified'
  | 'email.verification_sent'
  | 'email.verified'
  | 'email.change_requested'
  | 'email.changed'
  | 'refresh_token.reuse_detected'
  // Admin actions: the actor is the admin user (or null for a machine client, named in clientId).
  | 'client.created'
  | 'client.updated'
  | 'client.deleted'
  | 'client.secret_rotated'
  | 'client.registered'
  | 'client.approved'
  | 'client.rejected'
  | 'user.created'
  | 'user.updated'
  | 'user.disabled'
  | 'user.enabled'
  | 'user.deleted'
  | 'user.password_set'
  | 'users.imported'
  | 'role.created'
  | 'role.updated'
  | 'role.deleted'
  | 'role.assigned'
  | 'role.unassigned'
  | 'session.revoked'
  | 'grant.revoked'
  // The user withdrew an application's access on /account (its consent, grants and tokens).
  | 'consent.revoked'
  // Sessions (docs/sessions.md): the user ended theirs, and what their clients were told.
  | 'session.ended'
  | 'backchannel_logout.delivered'
  | 'backchannel_logout.failed'
  | 'backchannel_logout.abandoned'
  | 'key.rotated'
  | 'initial_access_token.created'
  | 'initial_access_token.revoked'
  // Upstream identity providers (docs/federation.md): the admin's connections, and what a
  // person's upstream sign-ins changed or why one failed.
  | 'connection.created'
  | 'connection.updated'
  | 'connection.deleted'
  | 'federation.account_created'
  | 'federation.identity_linked'
  | 'federation.identity_unlinked'
  | 'federation.failed'
  // A person signed in through an upstream (an identity already linked, or an account just made).
  | 'signin.upstream.succeeded'
  // Codes by email and SMS (docs/factors.md): sign-in without a password, code second factors,
  // what was sent (never the code or the address) and what could not be delivered.
  | 'signin.email_code.succeeded'
  | 'signin.email_code.failed'
  | 'signin.link.handed_off'
  | 'code.sent'
  | 'code.delivery_failed'
  | 'mfa.email.enabled'
  | 'mfa.email.removed'
  | 'mfa.sms.enrolled'
  | 'mfa.sms.removed'
  | 'mfa.default.changed'
  // API permissions and token exchange (docs/roles.md, docs/protocol.md): what admins changed,
  // and each token a client got by exchange.
  | 'resource.created'
  | 'resource.updated'
  | 'resource.deleted'
  | 'permission.created'
  | 'permission.deleted'
  | 'role.permission_granted'
  | 'role.permission_revoked'
  | 'client.permission_granted'
  | 'client.permission_revoked'
  | 'token_exchange.policy_set'
  | 'token_exchange.policy_removed'
  | 'token.exchanged'
  // Custom user attributes (docs/protocol.md): the schema admins define.
  | 'attribute.defined'
  | 'attribute.updated'
  | 'attribute.deleted'
  // How many tokens a client got since the last tally (observability/token-requests.ts): the
  // dashboard's token requests per client, one event per client every five minutes, not one per token.
  | 'token.requests';

export type AuditEventInput = Omit<NewAuditEvent, 'action' | 'ip' | 'userAgent' | 'requestId'>;

export interface AuditLog {
  record(action: AuditAction, event: AuditEventInput, origin?: RequestOrigin): Promise<void>;
  /** The same log writing through a transaction's repository: the event commits with the change it records. */
  within(tx: { audit: AuditRepository }): AuditLog;
}

/** Told of every event as it is written (the sign-in metrics count from here). */
export type AuditObserver = (action: AuditAction, event: AuditEventInput) => void;

export function createAuditLog(repo: AuditRepository, observe?: AuditObserver): AuditLog {
  return {
    async record(action, event, origin = {}) {
      await repo.record({
        ...event,
        action,
        clientId: event.clientId ?? origin.clientId ?? null,
        ip: origin.ip ?? null,
        userAgent: origin.userAgent ?? null,
        requestId: origin.requestId ?? null,
      });
      observe?.(action, event);
    },
    within: (tx) => createAuditLog(tx.audit, observe),
  };
}
