/**
 * The OpenID scopes Gatehouse offers: the provider's `scopes`, what a client may register and
 * what config may name. One list, here because config/ imports no other folder and the
 * clients domain and provider glue may import config/.
 */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access', 'roles'] as const;
