import type { CredentialsRepository } from '../storage/credentials.repository.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import type { Storage } from '../storage/storage.js';
import type { SignInThrottle } from '../security/sign-in-throttle.js';
import type { TotpService } from './totp.js';
import type { RecoveryCodeService } from './recovery-codes.js';

export interface FactorSummary {
  totp: boolean;
  webauthn: number;
  recoveryCodes: number;
  /** Any factor that can complete a second step. */
  any: boolean;
}

export type CodeMethod = 'totp' | 'recovery_code';
export type CodeCheck = 'accepted' | 'invalid' | 'replayed' | 'throttled';

/** The second step of a sign-in and the factors behind it; no HTTP here. */
export function createSecondFactorService(deps: {
  credentials: CredentialsRepository;
  totp: TotpService;
  recovery: RecoveryCodeService;
  audit: AuditLog;
  throttle: SignInThrottle;
  /** Runs a change and its audit event in one transaction. */
  transaction: Storage['transaction'];
}) {
  const { credentials, totp, recovery, audit, throttle } = deps;

  return {
    async summary(userId: string): Promise<FactorSummary> {
      const rows = await credentials.listSecondFactors(userId);
      const count = (type: string) => rows.filter((r) => r.type === type).length;
      const summary = { totp: count('totp') > 0, webauthn: count('webauthn'), recoveryCodes: count('recovery_code') };
      return { ...summary, any: summary.totp || summary.webauthn > 0 || summary.recoveryCodes > 0 };
    },

    /**
     * Checks a one-time code. Failures count per account (separately from password
     * failures); past the limit every code is refused until the window ends.
     */
    async verifyCode(userId: string, method: CodeMethod, code: string, origin: RequestOrigin): Promise<CodeCheck> {
      if (await throttle.isBlocked(userId)) return 'throttled';
      let outcome: CodeCheck;
      if (method === 'totp') {
        const result = await totp.check(userId, code);
        outcome = result === 'accepted' || result === 'replayed' ? result : 'invalid';
      } else {
        outcome = (await recovery.use(userId, code)) ? 'accepted' : 'invalid';
      }
      if (outcome === 'accepted') {
        await throttle.reset(userId);
        if (method === 'recovery_code') {
          await audit.record('mfa.recovery_code.used', { actorId: userId, subjectId: userId, details: { remaining: await recovery.remaining(userId) } }, origin);
        }
        await audit.record('signin.mfa.succeeded', { actorId: userId, subjectId: userId, details: { method } }, origin);
      } else {
        if (await throttle.recordFailure(userId)) {
          await audit.record('signin.locked_out', { subjectId: userId, details: { factor: 'second_factor' } }, origin);
        }
        await audit.record(outcome === 'replayed' ? 'signin.mfa.replayed' : 'signin.mfa.failed', { subjectId: userId, details: { method } }, origin);
      }
      return outcome;
    },

    /** An admin's reset for a locked-out user: every second factor goes, with its audit event. */
    async reset(userId: string, actor: { actorId: string | null; clientId?: string | null }, origin: RequestOrigin = {}): Promise<number> {
      const removed = await deps.transaction(async (tx) => {
        const count = await tx.credentials.deleteSecondFactors(userId);
        await audit.within(tx).record('mfa.reset', { actorId: actor.actorId, clientId: actor.clientId ?? null, subjectId: userId, details: { removed: count } }, origin);
        return count;
      });
      await throttle.reset(userId);
      return removed;
    },
  };
}

export type SecondFactorService = ReturnType<typeof createSecondFactorService>;
