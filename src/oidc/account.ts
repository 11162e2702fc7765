import type { Account, AccountClaims, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import type { AccountService } from '../accounts/account-service.js';
import type { UserRow } from '../storage/entities/user.entity.js';

/**
 * Scope → claims. The ID token is masked by the openid scope's claims (lib/helpers/claims.js),
 * so sid, acr, amr and auth_time ride on `openid` to reach it; userinfo never carries them.
 */
export const SCOPE_CLAIMS = {
  openid: ['sub', 'sid', 'acr', 'amr', 'auth_time'],
  profile: ['name', 'updated_at'],
  email: ['email', 'email_verified'],
} as const;

/**
 * The session id the provider keeps per client. oidc-provider only puts `sid` in an ID
 * token for clients with back-channel logout (lib/models/client.js includeSid), but RPs
 * need it for logout and session management, so it is added as a claim here.
 */
async function sidFor(ctx: KoaContextWithOIDC): Promise<string | undefined> {
  const { oidc } = ctx;
  const clientId = oidc.client?.clientId;
  if (!clientId) return undefined;
  const token = oidc.entities.AuthorizationCode ?? oidc.entities.RefreshToken;
  if (token?.sessionUid) {
    const session = await oidc.provider.Session.findByUid(token.sessionUid);
    return session?.sidFor(clientId);
  }
  if (oidc.route === 'authorization' || oidc.route === 'resume') return oidc.session?.sidFor(clientId);
  return undefined;
}

function profileClaims(user: UserRow): AccountClaims {
  return {
    sub: user.id,
    name: user.name ?? undefined,
    email: user.email,
    email_verified: user.emailVerified,
    updated_at: Math.floor(user.updatedAt.getTime() / 1000),
  };
}

export function createFindAccount(accounts: AccountService): FindAccount {
  return async function findAccount(ctx, sub): Promise<Account | undefined> {
    const user = await accounts.findActiveUser(sub);
    if (!user) return undefined;
    return {
      accountId: user.id,
      async claims(use) {
        const claims = profileClaims(user);
        if (use === 'id_token') {
          const sid = await sidFor(ctx);
          if (sid) claims.sid = sid;
        }
        return claims;
      },
    };
  };
}
