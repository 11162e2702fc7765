import type { Account, AccountClaims, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import type { AccountService } from '../accounts/account-service.js';
import type { UserRow } from '../storage/entities/user.entity.js';
import { hasRolesScope, visibleRoles, type RolesOf } from './roles.js';
import { profileOf } from '../accounts/profile.js';
import { attributesOf } from '../accounts/attribute-schema.js';
import type { AttributeDefinitionRow } from '../storage/attributes.repository.js';

/** A custom attribute as the provider sees it: a claim, released under a scope (options.ts). */
export type AttributeClaim = Pick<AttributeDefinitionRow, 'name' | 'type' | 'scope'>;

/**
 * Scope → claims. The ID token is masked by the openid scope's claims (lib/helpers/claims.js),
 * so sid, acr, amr and auth_time ride on `openid` to reach it; userinfo never carries them.
 * `roles` rides on `openid` too, deliberately: the roles scope puts the claim in the ID token
 * as well as userinfo. The mask only lets it through; claims() below returns it only when the
 * token's scope holds `roles`.
 */
export const SCOPE_CLAIMS = {
  openid: ['sub', 'sid', 'acr', 'amr', 'auth_time', 'roles'],
  profile: [
    'name',
    'given_name',
    'family_name',
    'preferred_username',
    'picture',
    'locale',
    'zoneinfo',
    'birthdate',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  // OIDC Core §5.4: the address claim is released under its own scope.
  address: ['address'],
  // OIDC Core §5.4: the phone scope; a number only once the user confirmed it by a texted code.
  phone: ['phone_number', 'phone_number_verified'],
  roles: ['roles'],
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

function profileClaims(user: UserRow, attributes: readonly AttributeClaim[]): AccountClaims {
  return {
    // The provider's mask lets each through only under its scope (options.ts scopeClaims).
    ...attributesOf(attributes, user.attributes),
    ...profileOf(user.profile),
    sub: user.id,
    name: user.name ?? undefined,
    email: user.email,
    email_verified: user.emailVerified,
    updated_at: Math.floor(user.updatedAt.getTime() / 1000),
  };
}

/** Without a roles source (no roles stored) the claim is an empty list. */
const noRoles: RolesOf = async () => [];

/** A user's phone claims (codes/code-factors.ts phoneClaims). */
export type PhoneClaimsOf = (userId: string) => Promise<{ phone_number?: string; phone_number_verified?: boolean }>;
const noPhone: PhoneClaimsOf = async () => ({});

const hasPhoneScope = (scope: string) => scope.split(' ').includes('phone');

export function createFindAccount(
  accounts: AccountService,
  rolesOf: RolesOf = noRoles,
  phoneClaimsOf: PhoneClaimsOf = noPhone,
  attributes: readonly AttributeClaim[] = [],
): FindAccount {
  return async function findAccount(ctx, sub): Promise<Account | undefined> {
    const user = await accounts.findActiveUser(sub);
    if (!user) return undefined;
    return {
      accountId: user.id,
      async claims(use, scope) {
        const claims = profileClaims(user, attributes);
        if (use === 'id_token') {
          const sid = await sidFor(ctx);
          if (sid) claims.sid = sid;
        }
        // oidc-provider refused the roles scope already if the client may not request it
        // (its registered scope); the client's visible roles narrow what it sees.
        if (hasRolesScope(scope)) claims.roles = visibleRoles(await rolesOf(user.id), ctx.oidc.client?.metadata());
        // Read only when asked for; an unconfirmed number is nobody's to release (OIDC Core §5.1:
        // phone_number_verified true means the provider took steps to ensure it is the user's).
        if (hasPhoneScope(scope)) {
          const phone = await phoneClaimsOf(user.id);
          if (phone.phone_number && phone.phone_number_verified === true) {
            claims.phone_number = phone.phone_number;
            claims.phone_number_verified = true;
          }
        }
        return claims;
      },
    };
  };
}
