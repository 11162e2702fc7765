import { createHmac } from 'node:crypto';
import { deriveKey } from './key-encryption-secret.js';

/**
 * oidc-provider models whose row id is a bearer secret a client holds: the value it presents
 * is the row's key. Stored under a keyed digest, one read of the database (a replica, a backup,
 * a log of SQL) yields no token that works (RFC 6819 §5.1.4.1.3, issue 14 §2).
 * Not here: Session and Interaction (their ids are cookie and URL values the provider also
 * reads back by uid and re-saves, so it must know them), Grant (never presented),
 * PushedAuthorizationRequest (a single-use reference bound to its client), and DeviceCode and
 * BackchannelAuthenticationRequest, whose flows are off: the device flow also finds its code by
 * user code and saves it again under its value, which needs a way back to the row (issue 19).
 */
export const BEARER_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'ClientCredentials',
  'InitialAccessToken',
  'RegistrationAccessToken',
]);

export interface TokenDigest {
  /** The row id a model's value is stored under: its keyed digest for bearer secrets, the value itself for the rest. */
  storedId(model: string, value: string): string;
}

/**
 * HMAC-SHA-256 under a key derived from the key-encryption secret: without that secret a
 * digest cannot be checked against guesses, and a digest presented as a token is digested
 * again and finds nothing. A fast MAC is right: the values are 256-bit random, not passwords.
 */
export function createTokenDigest(secret: Buffer): TokenDigest {
  const key = deriveKey(secret, 'token-digest');
  return {
    storedId: (model, value) =>
      BEARER_MODELS.has(model) ? createHmac('sha256', key).update(value, 'utf8').digest('base64url') : value,
  };
}
