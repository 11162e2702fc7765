import type { Context } from 'koa';
import type { RateLimits } from './rate-limits.js';

/**
 * The rate limits in front of every password check, wherever the password is typed: the
 * sign-in page and the current password on /account count in the same budgets, so a stolen
 * account session is no cheaper a place to guess than the sign-in page (issue 14, finding 4;
 * docs/abuse-protection.md, "Rate limits").
 *
 * - `signInIp` counts *failures* per address, not attempts: an office behind one NAT signs in
 *   all morning, a stuffer fails from one address. Past it, the address is refused unchecked.
 * - `signInIpAttempts` is the far higher ceiling on every attempt from one address (each one
 *   an argon2 verification): what an address can cost us with passwords it knows.
 * - `signInAccount` counts every attempt for the account (the typed email on the sign-in page).
 */
export const passwordAttempts = {
  /**
   * Before the check: throws RateLimitedError when any of the three budgets is spent. In this
   * order, each only when the one before passed: an address refused for its failures spends
   * neither its attempts nor the account's.
   */
  admit: (limits: RateLimits, ctx: Context, account: string): Promise<void> =>
    limits.inTurn(ctx, [
      { policy: 'signInIp', failuresOnly: true },
      { policy: 'signInIpAttempts' },
      { policy: 'signInAccount', key: account },
    ]),

  /** After a wrong password: one failure for the address. */
  failed: (limits: RateLimits, ctx: Context): Promise<void> => limits.fail(ctx, 'signInIp'),
};
