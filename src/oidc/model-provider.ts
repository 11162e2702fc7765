import Provider, { type Configuration, type JWK } from 'oidc-provider';
import type { Config } from '../config/schema.js';
import type { KeyMaterial } from './keys.js';
import { createRegistrationPolicy, REGISTRATION_POLICY } from './registration-policy.js';

/**
 * A Provider that serves no HTTP, for creating oidc-provider model instances outside the
 * server (the CLI's initial access tokens): same issuer, adapter and keys, and the
 * registration policy registered so a token naming it can be saved (oidc-provider checks
 * policy names on save, lib/models/initial_access_token.js). The server's own provider
 * runs the policy when the token is used.
 */
export function createModelProvider(
  config: Config,
  deps: { adapter: Configuration['adapter']; keys: KeyMaterial },
): Provider {
  return new Provider(config.issuer, {
    adapter: deps.adapter,
    jwks: { keys: deps.keys.signingJwks as JWK[] },
    cookies: { keys: deps.keys.cookieKeys },
    features: {
      devInteractions: { enabled: false },
      registration: {
        enabled: true,
        initialAccessToken: true,
        policies: { [REGISTRATION_POLICY]: createRegistrationPolicy(config.registration.policy) },
      },
    },
  });
}
