import type { AuditAction, AuditEventInput } from '../security/audit.js';
import type { Metrics } from './metrics.js';

/**
 * Sign-in outcomes counted from the audit vocabulary: every sign-in path already records one
 * event per attempt (src/accounts/), so counting here covers password, passkey and second
 * factor without a second set of calls beside each audit record that could drift from it.
 */
const SECOND_FACTOR_METHODS = new Set(['totp', 'recovery_code', 'security_key', 'email', 'sms', 'code']);

type Count = (metrics: Metrics, event: AuditEventInput) => void;

const secondFactor =
  (result: string): Count =>
  (metrics, event) => {
    const method = event.details?.method;
    // details come from our code, but a label must never take an unbounded value.
    metrics.secondFactors.inc({
      method: typeof method === 'string' && SECOND_FACTOR_METHODS.has(method) ? method : 'other',
      result,
    });
  };

const COUNTS: Partial<Record<AuditAction, Count>> = {
  'signin.password.succeeded': (m) => m.signIns.inc({ method: 'password', result: 'success' }),
  'signin.password.failed': (m) => m.signIns.inc({ method: 'password', result: 'failure' }),
  'signin.email_unverified': (m) => m.signIns.inc({ method: 'password', result: 'email_unverified' }),
  'signin.passkey.succeeded': (m) => m.signIns.inc({ method: 'passkey', result: 'success' }),
  'signin.passkey.failed': (m) => m.signIns.inc({ method: 'passkey', result: 'failure' }),
  'signin.email_code.succeeded': (m, event) =>
    m.signIns.inc({ method: event.details?.method === 'magic_link' ? 'magic_link' : 'email_code', result: 'success' }),
  'signin.email_code.failed': (m) => m.signIns.inc({ method: 'email_code', result: 'failure' }),
  'signin.upstream.succeeded': (m) => m.signIns.inc({ method: 'upstream', result: 'success' }),
  'federation.failed': (m) => m.signIns.inc({ method: 'upstream', result: 'failure' }),
  'signin.mfa.succeeded': secondFactor('success'),
  'signin.mfa.failed': secondFactor('failure'),
  'signin.mfa.replayed': secondFactor('replayed'),
  'refresh_token.reuse_detected': (m) => m.refreshTokenReuse.inc(),
};

/** The audit log's observer (createAuditLog's second argument) that keeps the sign-in counters. */
export function countSecurityEvents(metrics: Metrics): (action: AuditAction, event: AuditEventInput) => void {
  return (action, event) => COUNTS[action]?.(metrics, event);
}
