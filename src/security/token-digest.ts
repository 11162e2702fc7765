import { createHmac } from 'node:crypto';
import { deriveKey } from './key-encryption-secret.js';
import { createSecretBox } from './secret-box.js';

/**
 * oidc-provider models whose row id is a bearer secret a client holds: the value it presents
 * is the row's key. Stored under a keyed digest, one read of the database (a replica, a backup,
 * a log of SQL) yields no token that works (RFC 6819 §5.1.4.1.3, issue 14 §2).
 * Not here: Session and Interaction (their ids are cookie and URL values the provider also
 * reads back by uid and re-saves, so it must know them), Grant (never presented),
 * PushedAuthorizationRequest (a single-use reference bound to its client),
 * BackchannelAuthenticationRequest (its flow is off), and DeviceCode, which is SEALED_BEARER_MODELS'.
 * The migration of 1765065600000 re-keyed the rows of exactly this list; it stays as it was.
 */
export const BEARER_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'ClientCredentials',
  'InitialAccessToken',
  'RegistrationAccessToken',
]);

/**
 * Bearer secrets the provider also finds by another key and then saves again under their value:
 * the device code (RFC 8628), found by its user code on /device. Their rows are keyed by the
 * digest like BEARER_MODELS', and keep the value sealed (AES-256-GCM under a key derived from
 * the key-encryption secret) so that the adapter can hand it back; a database copy holds neither.
 */
export const SEALED_BEARER_MODELS: ReadonlySet<string> = new Set(['DeviceCode']);

export interface TokenDigest {
  /** The row id a model's value is stored under: its keyed digest for bearer secrets, the value itself for the rest. */
  storedId(model: string, value: string): string;
  /** A SEALED_BEARER_MODELS value as its row keeps it. */
  seal(model: string, value: string): string;
  /** The value `seal` sealed; throws for anything else. */
  open(model: string, sealed: string): string;
}

/**
 * HMAC-SHA-256 under a key derived from the key-encryption secret: without that secret a
 * digest cannot be checked against guesses, and a digest presented as a token is digested
 * again and finds nothing. A fast MAC is right: the values are 256-bit random, not passwords.
 */
export function createTokenDigest(secret: Buffer): TokenDigest {
  const key = deriveKey(secret, 'token-digest');
  const box = createSecretBox(deriveKey(secret, 'token-seal'));
  return {
    storedId: (model, value) =>
      BEARER_MODELS.has(model) || SEALED_BEARER_MODELS.has(model)
        ? createHmac('sha256', key).update(value, 'utf8').digest('base64url')
        : value,
    seal: (model, value) => box.seal(value, `token:${model}`),
    open: (model, sealed) => box.open(sealed, `token:${model}`),
  };
}
