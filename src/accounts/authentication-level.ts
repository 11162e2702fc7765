import type { Config } from '../config/schema.js';

/** How the user proved who they are, in RFC 8176 terms where a value exists. */
export type FirstFactor = 'password' | 'passkey' | 'federated' | 'email_code';
export type SecondFactor = 'totp' | 'recovery_code' | 'security_key' | 'email_code' | 'sms';

export type Level = 'password' | 'mfa' | 'phishingResistant';
const RANK: Record<Level, number> = { password: 0, mfa: 1, phishingResistant: 2 };

export interface WebAuthnUse {
  /** The authenticator verified the user (PIN, biometrics). */
  userVerified: boolean;
  /** A synced (multi-device) credential is a software key; a device-bound one a hardware key. */
  backedUp: boolean;
}

export interface Authentication {
  amr: string[];
  level: Level;
}

/**
 * amr (RFC 8176) and level for a completed sign-in:
 * password → pwd; + TOTP or recovery code → pwd otp mfa (mfa);
 * + security key → pwd hwk|swk mfa (phishing-resistant); passkey with user verification
 * alone → hwk|swk user mfa (phishing-resistant).
 * Codes by email and SMS (issue 18, docs/decisions.md): an emailed code or sign-in link alone →
 * otp (password level: one factor, like a password); + an emailed code → pwd otp mfa (mfa);
 * + an SMS code → pwd sms mfa (mfa). SMS is a restricted authenticator (NIST SP 800-63B
 * §5.1.3.3) and an emailed code is phishable: neither ever reaches phishing-resistant.
 */
export function describeAuthentication(
  first: FirstFactor,
  second?: SecondFactor,
  webauthn?: WebAuthnUse,
): Authentication {
  const key = webauthn?.backedUp ? 'swk' : 'hwk';
  if (first === 'passkey') {
    return {
      amr: [key, ...(webauthn?.userVerified ? ['user', 'mfa'] : [])],
      level: webauthn?.userVerified ? 'phishingResistant' : 'password',
    };
  }
  // An upstream identity provider's sign-in is `fed` (RFC 8176), in place of the password; an
  // emailed code or link is `otp`.
  const firstAmr = first === 'federated' ? 'fed' : first === 'email_code' ? 'otp' : 'pwd';
  if (!second) return { amr: [firstAmr], level: 'password' };
  if (second === 'sms') return { amr: [...new Set([firstAmr, 'sms']), 'mfa'], level: 'mfa' };
  if (second === 'security_key')
    return { amr: [firstAmr, key, ...(webauthn?.userVerified ? ['user'] : []), 'mfa'], level: 'phishingResistant' };
  return { amr: [...new Set([firstAmr, 'otp']), 'mfa'], level: 'mfa' };
}

/** The first factor a session's amr records, for the second step that follows it. */
export function firstFactorOf(amr: readonly string[] | undefined): 'password' | 'federated' | 'email_code' {
  if (amr?.includes('fed')) return 'federated';
  // An emailed code or link alone is `otp` without `pwd` (describeAuthentication).
  return amr?.includes('otp') && !amr.includes('pwd') ? 'email_code' : 'password';
}

/**
 * The code channels a second step may offer after `first`: an emailed code after an email
 * sign-in would prove the same mailbox twice, so it is no second factor then; neither channel
 * when the RP asks for the phishing-resistant level, which no code reaches (docs/decisions.md).
 */
export function secondStepChannels<C extends 'email' | 'sms'>(
  available: readonly C[],
  first: FirstFactor,
  wanted: Level | undefined,
): C[] {
  if (wanted === 'phishingResistant') return [];
  return available.filter((channel) => !(channel === 'email' && first === 'email_code'));
}

/** The level an acr value stands for, or undefined for values we do not know. */
export function levelOfAcr(value: string | undefined, acr: Config['acr']): Level | undefined {
  return (Object.keys(RANK) as Level[]).find((level) => acr[level] === value);
}

/** The level an RP's acr_values ask for: the weakest of the known values it lists (any will do). */
export function requestedLevel(acrValues: string | undefined, acr: Config['acr']): Level | undefined {
  const known = (acrValues ?? '')
    .split(' ')
    .map((v) => levelOfAcr(v, acr))
    .filter((l): l is Level => l !== undefined);
  if (known.length === 0) return undefined;
  return known.reduce((weakest, level) => (RANK[level] < RANK[weakest] ? level : weakest));
}

export function meets(current: Level | undefined, wanted: Level): boolean {
  return current !== undefined && RANK[current] >= RANK[wanted];
}

/** True when amr records a factor beyond the first. */
export function hasSecondFactor(amr: readonly string[] | undefined): boolean {
  return (amr ?? []).includes('mfa');
}
