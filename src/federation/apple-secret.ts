import { importPKCS8, SignJWT } from 'jose';

/**
 * Sign in with Apple has no fixed client secret: each is an ES256 JWT signed with the team's
 * key (Apple, "Creating a client secret"), valid at most six months. Gatehouse makes short
 * ones and keeps each until shortly before it expires, so a leaked one is soon worthless and
 * a token request never waits for a signature.
 */
export interface AppleSecretInput {
  /** The cache key: a connection's id and version (a changed key or id makes a new secret). */
  cacheKey: string;
  teamId: string;
  keyId: string;
  clientId: string;
  privateKey: string;
  /** Apple's issuer, the secret's audience (https://appleid.apple.com). */
  audience: string;
}

/** How long each secret is valid, and how long before its end a new one is made. */
const LIFETIME_SECONDS = 3600;
const RENEW_BEFORE_SECONDS = 300;

export function createAppleSecrets(now: () => number = Date.now) {
  const cache = new Map<string, { secret: string; expiresAt: number }>();
  return {
    async secret(input: AppleSecretInput): Promise<string> {
      const cached = cache.get(input.cacheKey);
      if (cached && cached.expiresAt - RENEW_BEFORE_SECONDS * 1000 > now()) return cached.secret;
      const issuedAt = Math.floor(now() / 1000);
      const key = await importPKCS8(input.privateKey, 'ES256');
      const secret = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: input.keyId })
        .setIssuer(input.teamId)
        .setSubject(input.clientId)
        .setAudience(input.audience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + LIFETIME_SECONDS)
        .sign(key);
      cache.set(input.cacheKey, { secret, expiresAt: (issuedAt + LIFETIME_SECONDS) * 1000 });
      return secret;
    },
  };
}

export type AppleSecrets = ReturnType<typeof createAppleSecrets>;
