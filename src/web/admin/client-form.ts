import { z } from 'zod';
import { AUTH_METHODS, GRANT_TYPES, ID_TOKEN_ALGS, SCOPES, type ClientInput } from '../../clients/client-registry.js';
import { ACCOUNT_CLIENT_ID, ADMIN_CONSOLE_CLIENT_ID } from '../../clients/built-in-client.js';
import { checkbox, lines, list, optionalText, text } from '../kit/form-fields.js';
import { applicationTypePreset, isApplicationType, type ApplicationType } from '../../clients/application-types.js';
import { AppError } from '../../http/errors.js';

/** Gatehouse's own clients: listed, never edited (the service refuses it too). */
export const isBuiltInClient = (id: string): boolean => id === ACCOUNT_CLIENT_ID || id === ADMIN_CONSOLE_CLIENT_ID;

/** What a new client's form starts with: a confidential web app signing users in. */
const NEW_CLIENT: ClientInput = {
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

/** The full form's starting values when opened from a type's short form ("All settings"): that type's preset. */
export function newClientFrom(type: string | undefined): ClientInput {
  return type && isApplicationType(type) ? { ...NEW_CLIENT, ...applicationTypePreset(type) } : NEW_CLIENT;
}

/** The type in the URL of a type's short form; any other word is a page that does not exist. */
export function applicationTypeParam(value: string): ApplicationType {
  if (!isApplicationType(value)) throw new AppError('not_found', 404, 'The page you asked for does not exist.');
  return value;
}

/**
 * A type's short form (views/admin/client-new-type.ejs): the name and, for a type that signs
 * people in, where to send them back. The type's preset fills in the rest
 * (clients/application-types.ts), which also refuses what does not fit the type.
 */
export const applicationForm = z
  .object({ name: text(), redirect_uris: lines(), post_logout_redirect_uris: lines() })
  .transform((form) => ({
    name: form.name,
    redirectUris: form.redirect_uris,
    postLogoutRedirectUris: form.post_logout_redirect_uris,
  }));

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
 * form: an update leaves them as they are, and the admin API sets them. The client service checks every value.
 */
export const clientForm = z
  .object({
    name: text(),
    client_type: text(),
    redirect_uris: lines(),
    post_logout_redirect_uris: lines(),
    first_party: checkbox(),
    grant_types: list(),
    scope: list(),
    token_endpoint_auth_method: text(),
    id_token_signed_response_alg: optionalText(),
    mfa: optionalText(),
    visible_roles: text(),
    backchannel_logout_uri: optionalText({ trim: true }),
    backchannel_logout_session_required: checkbox(),
    subject_type: optionalText(),
    sector_identifier_uri: optionalText({ trim: true }),
    frontchannel_logout_uri: optionalText({ trim: true }),
    frontchannel_logout_session_required: checkbox(),
    dpop_bound_access_tokens: checkbox(),
    require_pushed_authorization_requests: checkbox(),
    fapi: checkbox(),
    sms: checkbox(),
    email_sign_in: checkbox(),
    logo_uri: optionalText({ trim: true }),
    policy_uri: optionalText({ trim: true }),
    tos_uri: optionalText({ trim: true }),
  })
  .transform((form): ClientInput => {
    const isPublic = form.client_type === 'public';
    return {
      name: form.name,
      redirectUris: form.redirect_uris,
      postLogoutRedirectUris: form.post_logout_redirect_uris,
      public: isPublic,
      firstParty: form.first_party,
      grantTypes: form.grant_types,
      scope: form.scope.join(' '),
      authMethod: isPublic ? 'none' : form.token_endpoint_auth_method || 'client_secret_basic',
      idTokenAlg: form.id_token_signed_response_alg,
      mfa: form.mfa,
      visibleRoles: form.visible_roles.split(/[\s,]+/).filter(Boolean),
      backchannelLogoutUri: form.backchannel_logout_uri,
      backchannelLogoutSessionRequired: form.backchannel_logout_session_required,
      subjectType: form.subject_type,
      sectorIdentifierUri: form.sector_identifier_uri,
      frontchannelLogoutUri: form.frontchannel_logout_uri,
      frontchannelLogoutSessionRequired: form.frontchannel_logout_session_required,
      dpopBoundAccessTokens: form.dpop_bound_access_tokens,
      requirePushedAuthorizationRequests: form.require_pushed_authorization_requests,
      fapi: form.fapi,
      sms: form.sms,
      emailSignIn: form.email_sign_in,
      logoUri: form.logo_uri,
      policyUri: form.policy_uri,
      tosUri: form.tos_uri,
    };
  });
