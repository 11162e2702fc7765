import type { Configuration } from 'oidc-provider';

/**
 * Every endpoint path of the provider, in one place: oidc-provider receives this object as its
 * `routes` option, and the guards in front of it (protocol-edge.ts) read their paths from it,
 * so the two cannot drift apart. The values are oidc-provider's defaults (lib/helpers/defaults.js),
 * spelled out so that nothing depends on them silently.
 */
export const ROUTES = {
  authorization: '/auth',
  token: '/token',
  userinfo: '/me',
  jwks: '/jwks',
  registration: '/reg',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  end_session: '/session/end',
  pushed_authorization_request: '/request',
  code_verification: '/device',
  device_authorization: '/device/auth',
  backchannel_authentication: '/backchannel',
  challenge: '/challenge',
  credential: '/credential',
} as const satisfies NonNullable<Configuration['routes']>;

/** Endpoints where clients authenticate (token, introspection, revocation, PAR). */
export const CLIENT_AUTH_ROUTES: readonly string[] = [
  ROUTES.token,
  ROUTES.introspection,
  ROUTES.revocation,
  ROUTES.pushed_authorization_request,
];

/** Endpoints only programs call: their errors are JSON whatever the Accept header says. */
export const PROGRAM_ROUTES: readonly string[] = [...CLIENT_AUTH_ROUTES, ROUTES.registration, ROUTES.userinfo];

/** Where the provider sends the browser for a sign-in step: our interaction router. */
export const INTERACTION_PATH = '/interaction';
