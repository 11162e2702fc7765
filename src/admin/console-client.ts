import type { ClientsRepository } from '../storage/clients.repository.js';
import type { RolesRepository } from '../storage/roles.repository.js';
import { ADMIN_CONSOLE_CLIENT_ID } from '../oidc/admin-resource.js';
import { ADMIN_ROLE } from './roles.service.js';

export const adminRedirectUri = (issuer: string) => `${issuer}/admin/callback`;

/**
 * Registers (or re-points, when the issuer changed) the admin console's own client, and the
 * admin role, at boot. `mfa` follows config: 'required' makes every console sign-in use a second factor.
 */
export async function ensureAdminConsole(deps: { clients: ClientsRepository; roles: RolesRepository }, issuer: string, mfa: 'optional' | 'required'): Promise<void> {
  await deps.roles.ensure(ADMIN_ROLE, 'Administers Gatehouse: admin console and admin API');
  await deps.clients.upsert({
    id: ADMIN_CONSOLE_CLIENT_ID,
    name: 'Gatehouse admin console',
    secretHash: null,
    firstParty: true,
    metadata: {
      redirect_uris: [adminRedirectUri(issuer)],
      post_logout_redirect_uris: [`${issuer}/admin`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'ES256',
      scope: 'openid',
      application_type: 'web',
      gatehouse_mfa: mfa,
    },
  });
}
