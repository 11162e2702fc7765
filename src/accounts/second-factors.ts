import type { CredentialsRepository } from '../storage/credentials.repository.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import type { Storage } from '../storage/storage.js';
import type { Lockout } from '../security/lockout.js';
import type { TotpService } from './totp.js';
import type { RecoveryCodeService } from './recovery-codes.js';

export interface FactorSummary {
  totp: boolean;
  webauthn: number;
  recoveryCodes: number;
  /** Any factor that can complete a second step. */
  enrolled: boolean;
}

/** The summary of a user's credential counts by type: the one rule of what counts as enrolled. */
export function factorSummaryOf(counts: { totp: number; webauthn: number; recoveryCodes: number }): FactorSummary {
  const summary = { totp: counts.totp > 0, webauthn: counts.webauthn, recoveryCodes: counts.recoveryCodes };
  return { ...summary, enrolled: summary.totp || summary.webauthn > 0 || summary.recoveryCodes > 0 };
}

export type CodeMethod = 'totp' | 'recovery_code';
export type CodeCheck = 'accepted' | 'invalid' | 'replayed' | 'throttled';
/** A code check's outcome, with the wait when a lockout refused it unchecked. */
export interface CodeVerdict {
  result: CodeCheck;
  retryAfterSeconds: number | null;
}

/** The second step of a sign-in and the factors behind it; no HTTP here. */
export function createSecondFactorService(deps: {
  credentials: CredentialsRepository;
  totp: TotpService;
  recovery: RecoveryCodeService;
  audit: AuditLog;
  lockout: Lockout;
  /** Runs a change and its audit event in one transaction. */
  transaction: Storage['transaction'];
}) {
  const { credentials, totp, recovery, audit, lockout } = deps;
  // Inside deps.transaction only the repositories it hands out are used: the embedded
  // database serves one connection per open transaction, so a pooled query there would wait forever.

  return {
    async summary(userId: string): Promise<FactorSummary> {
      const rows = await credentials.listSecondFactors(userId);
      const count = (type: string) => rows.filter((r) => r.type === type).length;
      return factorSummaryOf({
        totp: count('totp'),
        webauthn: count('webauthn'),
        recoveryCodes: count('recovery_code'),
      });
    },

    /**
     * Checks a one-time code. Failures count per account and address (separately from
     * password failures, src/security/lockout.ts); during a back-off wait every code is refused
     * unchecked. An accepted code
     * is spent (the TOTP step advanced, the recovery code deleted) in the same transaction as
     * the events that record its use: no code is spent unrecorded, none recorded unspent.
     */
    async verifyCode(userId: string, method: CodeMethod, code: string, origin: RequestOrigin): Promise<CodeVerdict> {
      const ip = origin.ip ?? '';
      const wait = await lockout.check('second_factor', userId, ip);
      if (wait) return { result: 'throttled', retryAfterSeconds: wait.retryAfterSeconds };
      const outcome = await deps.transaction(async (tx): Promise<CodeCheck> => {
        let checked: CodeCheck;
        if (method === 'totp') {
          const result = await totp.within(tx).check(userId, code);
          checked = result === 'accepted' || result === 'replayed' ? result : 'invalid';
        } else {
          checked = (await recovery.within(tx).use(userId, code)) ? 'accepted' : 'invalid';
        }
        if (checked !== 'accepted') return checked;
        const log = audit.within(tx);
        if (method === 'recovery_code') {
          await log.record(
            'mfa.recovery_code.used',
            { actorId: userId, subjectId: userId, details: { remaining: await recovery.within(tx).remaining(userId) } },
            origin,
          );
        }
        await log.record('signin.mfa.succeeded', { actorId: userId, subjectId: userId, details: { method } }, origin);
        return checked;
      });
      if (outcome === 'accepted') {
        await lockout.recordSuccess('second_factor', userId, ip);
      } else {
        // A refused code changes nothing in the database: its events are single writes.
        const started = await lockout.recordFailure('second_factor', userId, ip);
        if (started) {
          await audit.record(
            'signin.locked_out',
            {
              subjectId: userId,
              details: { factor: 'second_factor', scope: started.scope, waitSeconds: started.retryAfterSeconds },
            },
            origin,
          );
        }
        await audit.record(
          outcome === 'replayed' ? 'signin.mfa.replayed' : 'signin.mfa.failed',
          { subjectId: userId, details: { method } },
          origin,
        );
      }
      return { result: outcome, retryAfterSeconds: null };
    },

    /**
     * Turns on an authenticator app once a code from `secret` is confirmed: the sealed secret
     * (with the confirming code's step spent), 'mfa.totp.enrolled' and, when asked, new
     * recovery codes with 'mfa.recovery_codes.generated', all in one transaction. `recoveryCodes`:
     * 'replace' always issues new ones (sign-in enrolment); 'if-none' only when the user has
     * none left (the account page, where codes may already exist). Returns the new codes to
     * show once: empty when the user keeps the ones they had.
     */
    async enrolTotp(
      userId: string,
      secret: string,
      code: string,
      recoveryCodes: 'replace' | 'if-none',
      origin: RequestOrigin,
    ): Promise<{ ok: false } | { ok: true; recoveryCodes: string[] }> {
      return deps.transaction(async (tx) => {
        if (!(await totp.within(tx).confirmEnrolment(userId, secret, code))) return { ok: false } as const;
        const log = audit.within(tx);
        await log.record('mfa.totp.enrolled', { actorId: userId, subjectId: userId }, origin);
        const codes = recovery.within(tx);
        if (recoveryCodes === 'if-none' && (await codes.remaining(userId)) > 0)
          return { ok: true, recoveryCodes: [] } as const;
        const issued = await codes.regenerate(userId);
        await log.record('mfa.recovery_codes.generated', { actorId: userId, subjectId: userId }, origin);
        return { ok: true, recoveryCodes: issued } as const;
      });
    },

    /** Removes the authenticator app, with its event; false when there was none. */
    async removeTotp(userId: string, origin: RequestOrigin): Promise<boolean> {
      return deps.transaction(async (tx) => {
        const row = await tx.credentials.findTotp(userId);
        if (!row || !(await tx.credentials.deleteSecondFactor(userId, row.id))) return false;
        await audit.within(tx).record('mfa.totp.removed', { actorId: userId, subjectId: userId }, origin);
        return true;
      });
    },

    /** Ten new recovery codes (the old ones stop working), with their event; returns them to show once. */
    async regenerateRecoveryCodes(userId: string, origin: RequestOrigin): Promise<string[]> {
      return deps.transaction(async (tx) => {
        const codes = await recovery.within(tx).regenerate(userId);
        await audit.within(tx).record('mfa.recovery_codes.generated', { actorId: userId, subjectId: userId }, origin);
        return codes;
      });
    },

    /** An admin's reset for a locked-out user: every second factor goes, with its audit event. */
    async reset(
      userId: string,
      actor: { actorId: string | null; clientId?: string | null },
      origin: RequestOrigin = {},
    ): Promise<number> {
      const removed = await deps.transaction(async (tx) => {
        // Email and SMS codes too (issue 18): a reset leaves nothing that could still be asked for.
        const count = (await tx.credentials.deleteSecondFactors(userId)) + (await tx.phones.removeAll(userId));
        await tx.oneTimeCodes.revoke('second_factor', userId);
        await audit.within(tx).record(
          'mfa.reset',
          {
            actorId: actor.actorId,
            clientId: actor.clientId ?? null,
            subjectId: userId,
            details: { removed: count },
          },
          origin,
        );
        return count;
      });
      await lockout.clear('second_factor', userId);
      return removed;
    },
  };
}

export type SecondFactorService = ReturnType<typeof createSecondFactorService>;
