import type { OneTimeCodeRow, OneTimeCodesRepository } from '../storage/one-time-codes.repository.js';
import { sameDigest, type CodeDigests } from './secrets.js';

/**
 * The outcome of typing a code. `invalid` says how many tries the code has left; `expired`
 * and `exhausted` mean a new code must be asked for. A code for an address without an account
 * is never accepted and answers exactly as a wrong one does.
 */
export type CodeVerdict =
  | { result: 'accepted'; row: OneTimeCodeRow }
  | { result: 'invalid'; attemptsLeft: number }
  | { result: 'expired' }
  | { result: 'exhausted' };

/** What a code must belong to besides its own digest. */
export interface CodeExpectation {
  purpose: OneTimeCodeRow['purpose'];
  /** The account it was sent for (second factors, phone numbers). */
  userId?: string;
  /** The browser that asked (sign-in): the digest of its binding value. */
  browserDigest?: string;
}

/**
 * Checks a typed code against a stored one: the row must be of the expected purpose (and
 * user or browser), unused and unexpired on `now`; the attempt is counted before the
 * comparison (at most `maxAttempts` comparisons per code however many run at once); the
 * comparison is in constant time; a match is used at once, so a replay finds it spent.
 */
export async function checkCode(
  repo: OneTimeCodesRepository,
  digests: CodeDigests,
  input: { challengeId: string; code: string; expect: CodeExpectation; maxAttempts: number; now: Date },
): Promise<CodeVerdict> {
  const { expect, now } = input;
  const row = await repo.find(input.challengeId);
  const belongs =
    row !== undefined &&
    row.purpose === expect.purpose &&
    (expect.userId === undefined || row.userId === expect.userId) &&
    (expect.browserDigest === undefined || sameDigest(row.browserDigest, expect.browserDigest));
  if (!row || !belongs || row.consumedAt) return { result: 'expired' };
  if (row.expiresAt.getTime() <= now.getTime()) return { result: 'expired' };
  const counted = await repo.countAttempt(row.id, input.maxAttempts);
  if (!counted) return { result: 'exhausted' };
  const matches = sameDigest(counted.codeDigest, digests.code(input.code)) && counted.userId !== null;
  if (matches && (await repo.consume(row.id, now))) return { result: 'accepted', row: counted };
  const attemptsLeft = Math.max(0, input.maxAttempts - counted.attempts);
  return attemptsLeft === 0 ? { result: 'exhausted' } : { result: 'invalid', attemptsLeft };
}
