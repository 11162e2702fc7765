import { PolicyRefusedError } from '../errors/domain-errors.js';

/**
 * Why an upstream sign-in attempt ended (issue 17). The web layer maps each to a clear page
 * with a way back to the sign-in page, never a 500; `reason` is the stable code it picks the
 * message by and the audit event records. Messages never carry secrets or upstream tokens.
 */
export type FederationFailure =
  /** The callback's state is missing, unknown, used already, or from another browser or interaction. */
  | 'state_mismatch'
  /** The ID token's nonce is not the one this attempt sent. */
  | 'nonce_mismatch'
  /** The response or ID token names another issuer (mix-up, RFC 9700 §4.4), or another Entra tenant. */
  | 'issuer_mismatch'
  /** The upstream answered with an error (access_denied, invalid_grant, …) or something unusable. */
  | 'upstream_error'
  /** The upstream did not answer in time, or could not be reached. */
  | 'upstream_unavailable'
  /** The upstream's address is not at a domain the connection allows (or is not verified). */
  | 'domain_not_allowed'
  /** The connection is disabled, unknown, or not offered to the client signing in. */
  | 'connection_unavailable'
  /** No account has this identity and the connection does not create accounts (or has no address to create one with). */
  | 'no_account'
  /** The upstream's address matches an account, but is not verified (or not trusted): it never links. */
  | 'email_not_verified'
  /** The identity is linked to another account. */
  | 'identity_in_use'
  /** The account this identity is linked to is disabled. */
  | 'account_disabled';

export class FederationError extends Error {
  constructor(
    readonly reason: FederationFailure,
    message: string,
    options?: { cause?: unknown; upstreamError?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FederationError';
    this.upstreamError = options?.upstreamError;
  }

  /** The upstream's own error code (RFC 6749 §4.1.2.1), when it sent one. */
  readonly upstreamError: string | undefined;
}

/** The last way to sign in would go: refused (the account would be locked out). */
export const lastSignInMethod = () =>
  new PolicyRefusedError('connection', 'last_sign_in_method', 'this is the only way left to sign in to the account');
