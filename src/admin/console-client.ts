import type { ClientsRepository } from '../storage/clients.repository.js';
import type { RolesRepository } from '../storage/roles.repository.js';
import { ADMIN_CONSOLE_CLIENT_ID, builtInClient } from '../clients/built-in-client.js';
import { ADMIN_ROLE } from '../roles/roles.service.js';

export const adminRedirectUri = (issuer: string) => `${issuer}/admin/callback`;

/**
 * Registers (or re-points, when the issuer changed) the admin console's own client, and the
 * admin role, at boot. `mfa` follows config: 'required' makes every console sign-in use a second factor.
 */
export async function ensureAdminConsole(
  deps: { clients: ClientsRepository; roles: RolesRepository },
  issuer: string,
  mfa: 'optional' | 'required',
): Promise<void> {
  await deps.roles.ensure(ADMIN_ROLE, 'Administers Gatehouse: admin console and admin API');
  await deps.clients.upsert(
    builtInClient({
      id: ADMIN_CONSOLE_CLIENT_ID,
      name: 'Gatehouse admin console',
      redirectUri: adminRedirectUri(issuer),
      postLogoutRedirectUris: [`${issuer}/admin`],
      mfa,
    }),
  );
}

/**
 * The console's test callback (issue 21, "Try sign-in"): a redirect URI an admin registers for a
 * client, explicitly, to run a sign-in to that client from its integration page.
 */
export const tryCallbackUri = (issuer: string) => `${issuer}/admin/try/callback`;
