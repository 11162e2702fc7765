import type { AuditRepository, NewAuditEvent } from '../storage/audit.repository.js';

/** Where a request came from, as recorded with each security event. */
export interface RequestOrigin {
  ip?: string | null;
  userAgent?: string | null;
}

/** Security event names, one vocabulary for the log, the account page and later the admin API. */
export type AuditAction =
  | 'signin.password.succeeded' | 'signin.password.failed'
  | 'signin.mfa.succeeded' | 'signin.mfa.failed' | 'signin.mfa.replayed'
  | 'signin.passkey.succeeded' | 'signin.passkey.failed'
  | 'mfa.totp.enrolled' | 'mfa.totp.removed'
  | 'mfa.recovery_codes.generated' | 'mfa.recovery_code.used'
  | 'mfa.webauthn.registered' | 'mfa.webauthn.renamed' | 'mfa.webauthn.removed' | 'mfa.webauthn.counter_regressed'
  | 'mfa.reset'
  | 'password.changed';

export interface AuditLog {
  record(action: AuditAction, event: Omit<NewAuditEvent, 'action' | 'ip' | 'userAgent'>, origin?: RequestOrigin): Promise<void>;
}

export function createAuditLog(repo: AuditRepository): AuditLog {
  return {
    record: (action, event, origin = {}) => repo.record({ ...event, action, ip: origin.ip ?? null, userAgent: origin.userAgent ?? null }),
  };
}
