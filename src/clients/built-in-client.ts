import type { NewClient } from '../storage/clients.repository.js';

/**
 * The account pages' (/account) own client. Here, beside the console's,
 * because the sign-in pages and the admin name it too, and surfaces never import each other.
 */
export const ACCOUNT_CLIENT_ID = 'gatehouse-account';

/** The admin console signs admins in as this first-party client; its users' tokens reach the API. */
export const ADMIN_CONSOLE_CLIENT_ID = 'gatehouse-admin';

/**
 * Gatehouse's own pages (/account, /admin) sign people in through Gatehouse itself, each as a
 * first-party public client with code + PKCE, registered (or re-pointed when the issuer changed)
 * at every boot.
 */
export function builtInClient(input: {
  id: string;
  name: string;
  redirectUri: string;
  postLogoutRedirectUris: string[];
  mfa: 'optional' | 'required';
}): NewClient {
  return {
    id: input.id,
    name: input.name,
    secretHash: null,
    firstParty: true,
    metadata: {
      redirect_uris: [input.redirectUri],
      post_logout_redirect_uris: input.postLogoutRedirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'ES256',
      scope: 'openid',
      application_type: 'web',
      gatehouse_mfa: input.mfa,
    },
  };
}
