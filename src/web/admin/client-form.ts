import type { Context } from 'koa';
import { AUTH_METHODS, GRANT_TYPES, ID_TOKEN_ALGS, SCOPES, type ClientInput } from '../../clients/client-registry.js';
import { ACCOUNT_CLIENT_ID, ADMIN_CONSOLE_CLIENT_ID } from '../../clients/built-in-client.js';
import { formCheckbox, formField, formLines, formList } from './forms.js';

/** Gatehouse's own clients: listed, never edited (the service refuses it too). */
export const isBuiltInClient = (id: string): boolean => id === ACCOUNT_CLIENT_ID || id === ADMIN_CONSOLE_CLIENT_ID;

/** What a new client's form starts with: a confidential web app signing users in. */
export const NEW_CLIENT: ClientInput = {
  name: '',
  redirectUris: [],
  postLogoutRedirectUris: [],
  public: false,
  firstParty: false,
  grantTypes: ['authorization_code', 'refresh_token'],
  scope: 'openid profile email',
  authMethod: 'client_secret_basic',
  idTokenAlg: 'ES256',
  mfa: 'optional',
  visibleRoles: [],
};

/** The choices the form offers; a public client's method is always "none". */
export const CLIENT_CHOICES = {
  grantTypes: GRANT_TYPES,
  scopes: SCOPES,
  authMethods: AUTH_METHODS.filter((m) => m !== 'none'),
  idTokenAlgs: ID_TOKEN_ALGS,
  mfa: ['optional', 'required'],
} as const;

/**
 * The posted form as the services' input. jwks, jwks_uri, admin scopes and the refresh reuse grace are not on the
 * form: an update leaves them as they are, and the admin API sets them.
 */
export function clientInputFrom(ctx: Context): ClientInput {
  const isPublic = formField(ctx, 'client_type') === 'public';
  return {
    name: formField(ctx, 'name'),
    redirectUris: formLines(ctx, 'redirect_uris'),
    postLogoutRedirectUris: formLines(ctx, 'post_logout_redirect_uris'),
    public: isPublic,
    firstParty: formCheckbox(ctx, 'first_party'),
    grantTypes: formList(ctx, 'grant_types'),
    scope: formList(ctx, 'scope').join(' '),
    authMethod: isPublic ? 'none' : formField(ctx, 'token_endpoint_auth_method') || 'client_secret_basic',
    idTokenAlg: formField(ctx, 'id_token_signed_response_alg') || undefined,
    mfa: formField(ctx, 'mfa') || undefined,
    visibleRoles: formField(ctx, 'visible_roles').split(/[\s,]+/).filter(Boolean),
    backchannelLogoutUri: formField(ctx, 'backchannel_logout_uri').trim() || undefined,
    backchannelLogoutSessionRequired: formCheckbox(ctx, 'backchannel_logout_session_required'),
  };
}
