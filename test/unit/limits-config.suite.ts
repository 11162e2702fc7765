import { loadConfig } from '../../src/config/load.js';
import type { ConfigOverrides } from '../../src/config/schema.js';
import { configProblems } from '../helpers/config-problems.js';

const problemsOf = (overrides: ConfigOverrides | Record<string, unknown>): string[] => configProblems({}, overrides);

/** Rate limits and lockout (docs/abuse-protection.md): documented defaults, one line per bad value. */
describe('rate limit and lockout configuration', () => {
  it('defaults to every documented policy and a capped back-off', () => {
    const config = loadConfig({});
    expect(Object.keys(config.rateLimits).sort()).toEqual([
      'accountMail',
      'codeAddress',
      'codeIp',
      'codeResend',
      'deviceUserCodeIp',
      'passkeyIp',
      'passwordResetEmailCap',
      'passwordResetEmailIp',
      'passwordResetIp',
      'secondFactorAccount',
      'signInAccount',
      'signInIp',
      'signInIpAttempts',
      'signUpIp',
      'smsAccount',
      'smsDaily',
      'smsNumber',
      'tokenClient',
    ]);
    expect(config.rateLimits.signInIp).toEqual({ points: 30, durationSeconds: 300 });
    // Successes count only against the far higher ceiling (an office behind one NAT).
    expect(config.rateLimits.signInIpAttempts).toEqual({ points: 600, durationSeconds: 300 });
    // The silent cap per address sits well above what the per-address-and-IP limit lets one IP send.
    expect(config.rateLimits.passwordResetEmailCap.points).toBeGreaterThan(
      3 * config.rateLimits.passwordResetEmailIp.points,
    );
    expect(config.lockout).toEqual({
      freeFailures: 5,
      accountFreeFailures: 20,
      baseDelaySeconds: 30,
      maxDelaySeconds: 900,
      failureMemorySeconds: 86400,
      trustedIpDays: 30,
    });
  });

  it('refuses bad values at boot, one line per key', () => {
    const problems = problemsOf({
      rateLimits: { signInIp: { points: 0, durationSeconds: 60 }, tokenClient: { points: 10, durationSeconds: 1.5 } },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rateLimits\.signInIp\.points: /),
        expect.stringMatching(/^rateLimits\.tokenClient\.durationSeconds: /),
      ]),
    );
    expect(problemsOf({ rateLimits: { signInIp: { points: 5, durationSeconds: 60, burst: 3 } } })).toEqual([
      expect.stringMatching(/^rateLimits\.signInIp: .*burst/),
    ]);
  });

  it('refuses a lockout whose cap is under its first wait, or whose account threshold is under the per-address one', () => {
    expect(problemsOf({ lockout: { baseDelaySeconds: 600, maxDelaySeconds: 60 } })).toEqual([
      expect.stringMatching(/^lockout\.maxDelaySeconds: /),
    ]);
    expect(problemsOf({ lockout: { freeFailures: 10, accountFreeFailures: 3 } })).toEqual([
      expect.stringMatching(/^lockout\.accountFreeFailures: /),
    ]);
    expect(problemsOf({ lockout: { freeFailures: 0, trustedIpDays: -1 } })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^lockout\.freeFailures: /),
        expect.stringMatching(/^lockout\.trustedIpDays: /),
      ]),
    );
  });

  it('refuses the old signIn section with a clear line (its settings moved to lockout)', () => {
    expect(problemsOf({ signIn: { maxFailedAttempts: 10, failureWindowSeconds: 900 } })).toEqual([
      expect.stringMatching(/signIn/),
    ]);
  });
});
