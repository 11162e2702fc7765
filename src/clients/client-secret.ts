import { createHash, randomBytes } from 'node:crypto';

/**
 * Client secrets are stored only as SHA-256 digests. oidc-provider compares the presented
 * secret with the client's `client_secret` metadata in constant time
 * (lib/models/client.js compareClientSecret), so the adapter hands it the digest and
 * oidc/client-secret.ts replaces a presented secret by its digest before the provider reads it.
 * A fast hash is right here: secrets are 256-bit random values we generate, not passwords.
 * HMAC-based client auth (client_secret_jwt) is therefore not offered.
 */
export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}
