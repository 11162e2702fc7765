import { InvalidInputError } from '../errors/domain-errors.js';
import type { ClaimMapping, ClientAuthMethod, Connection } from './connection.js';

/** A connection being validated: a custom one may not name its kind yet (checkRules says so). */
export type ConnectionDraft = Omit<Connection, 'kind'> & { kind?: Connection['kind'] };

/** How the person's profile is read after the code exchange. */
type ProfileSource =
  /** ID token claims, merged with user info when the upstream has an endpoint for it. */
  | 'oidc'
  /** The user info endpoint only (a plain OAuth 2 upstream). */
  | 'oauth2'
  /** GitHub: /user, and /user/emails for the verified primary address. */
  | 'github';

/** Everything the exchange needs, with a preset's defaults filled in and the admin's overrides applied. */
export interface UpstreamSettings {
  kind: 'oidc' | 'oauth2';
  /** OIDC: the issuer discovery starts from and ID tokens must name. OAuth 2: an identifier for the server (its base URL). */
  issuer: string;
  /** Set for OAuth 2 upstreams (and OIDC ones whose URLs the admin overrode): no discovery for what is given. */
  authorizationEndpoint: string | undefined;
  tokenEndpoint: string | undefined;
  userinfoEndpoint: string | undefined;
  /** GitHub's /user/emails. */
  emailsEndpoint: string | undefined;
  scopes: string[];
  claims: ClaimMapping;
  /** Sent with every authorization request (Google's `hd`). */
  authorizationParams: Record<string, string>;
  /** Apple posts the response back (OIDC Form Post Response Mode). */
  responseMode: 'query' | 'form_post';
  /** `apple`: the client secret is an ES256 JWT made from the team id, key id and private key (apple-secret.ts). */
  clientAuth: ClientAuthMethod | 'apple';
  profile: ProfileSource;
  /** Entra ID with a multi-tenant authority: the ID token's `iss` must be this with its `tid` in place of {tenantid}. */
  tenantIssuerTemplate: string | undefined;
  /** Entra ID with one tenant named by id: the ID token's `tid` must be it. */
  tenantId: string | undefined;
  /** Google Workspace: the ID token's `hd` must be it (the `hd` parameter alone is only a hint to the chooser). */
  hostedDomain: string | undefined;
}

const OIDC_CLAIMS: ClaimMapping = {
  subject: 'sub',
  email: 'email',
  emailVerified: 'email_verified',
  name: 'name',
  givenName: 'given_name',
  familyName: 'family_name',
  picture: 'picture',
  groups: 'groups',
};

const MULTI_TENANT = ['common', 'organizations', 'consumers'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const trimSlash = (url: string) => url.replace(/\/+$/, '');

type PresetDefaults = Omit<
  UpstreamSettings,
  'claims' | 'tenantIssuerTemplate' | 'tenantId' | 'hostedDomain' | 'emailsEndpoint'
> & {
  claims?: Partial<ClaimMapping>;
  emailsEndpoint?: string;
  tenantIssuerTemplate?: string;
  tenantId?: string;
  hostedDomain?: string;
};

const none = { authorizationEndpoint: undefined, tokenEndpoint: undefined, userinfoEndpoint: undefined };

/** A preset's settings before the admin's overrides (docs/federation.md lists each with its console steps). */
function presetDefaults(connection: ConnectionDraft): PresetDefaults | undefined {
  const { options } = connection;
  const common = {
    authorizationParams: {} as Record<string, string>,
    responseMode: 'query' as const,
    clientAuth: connection.clientAuthMethod ?? 'client_secret_basic',
  };
  switch (connection.preset) {
    case 'google':
      return {
        ...common,
        ...none,
        kind: 'oidc',
        issuer: 'https://accounts.google.com',
        scopes: ['openid', 'email', 'profile'],
        profile: 'oidc',
        authorizationParams: options.hostedDomain ? { hd: options.hostedDomain } : {},
        hostedDomain: options.hostedDomain,
      };
    case 'microsoft': {
      const base = trimSlash(options.baseUrl ?? 'https://login.microsoftonline.com');
      const tenant = options.tenant ?? 'common';
      const multi = MULTI_TENANT.includes(tenant.toLowerCase());
      return {
        ...common,
        ...none,
        kind: 'oidc',
        issuer: `${base}/${tenant}/v2.0`,
        scopes: ['openid', 'email', 'profile'],
        profile: 'oidc',
        // Entra's `email` is whatever the tenant's admin typed: never verified (the nOAuth attack).
        claims: { emailVerified: 'email_verified' },
        tenantIssuerTemplate: multi ? `${base}/{tenantid}/v2.0` : undefined,
        tenantId: !multi && GUID.test(tenant) ? tenant.toLowerCase() : undefined,
      };
    }
    case 'github': {
      const base = trimSlash(options.baseUrl ?? 'https://github.com');
      const api = trimSlash(
        options.apiUrl ?? (base === 'https://github.com' ? 'https://api.github.com' : `${base}/api/v3`),
      );
      return {
        ...common,
        kind: 'oauth2',
        issuer: base,
        scopes: ['read:user', 'user:email'],
        profile: 'github',
        authorizationEndpoint: `${base}/login/oauth/authorize`,
        tokenEndpoint: `${base}/login/oauth/access_token`,
        userinfoEndpoint: `${api}/user`,
        emailsEndpoint: `${api}/user/emails`,
        clientAuth: connection.clientAuthMethod ?? 'client_secret_post',
        claims: { subject: 'id', name: 'name', picture: 'avatar_url' },
      };
    }
    case 'gitlab':
      return {
        ...common,
        ...none,
        kind: 'oidc',
        issuer: trimSlash(options.baseUrl ?? 'https://gitlab.com'),
        scopes: ['openid', 'email', 'profile'],
        profile: 'oidc',
        claims: { groups: 'groups_direct' },
      };
    case 'discord': {
      const base = trimSlash(options.baseUrl ?? 'https://discord.com');
      return {
        ...common,
        kind: 'oauth2',
        issuer: base,
        scopes: ['identify', 'email'],
        profile: 'oauth2',
        authorizationEndpoint: `${base}/oauth2/authorize`,
        tokenEndpoint: `${base}/api/oauth2/token`,
        userinfoEndpoint: `${base}/api/users/@me`,
        claims: { subject: 'id', emailVerified: 'verified', name: 'global_name' },
      };
    }
    case 'apple':
      return {
        ...common,
        ...none,
        kind: 'oidc',
        issuer: trimSlash(options.baseUrl ?? 'https://appleid.apple.com'),
        scopes: ['openid', 'name', 'email'],
        profile: 'oidc',
        // Apple posts the response back when name or email is asked for, and sends the name only then, once.
        responseMode: 'form_post',
        clientAuth: 'apple',
      };
    case 'custom':
      return undefined;
  }
}

/**
 * The settings a connection's exchange runs with, and the rules across its fields: a custom
 * connection names its kind and URLs, a secret or key is there when the method needs one,
 * Apple has its team and key ids. A InvalidInputError names the field to fix.
 */
export function upstreamSettings(connection: ConnectionDraft): UpstreamSettings {
  const preset = presetDefaults(connection);
  const kind = preset?.kind ?? connection.kind ?? 'oidc';
  const base: PresetDefaults = preset ?? {
    kind,
    issuer: connection.issuer ?? '',
    ...none,
    scopes: kind === 'oidc' ? ['openid', 'email', 'profile'] : [],
    profile: kind,
    authorizationParams: {},
    responseMode: 'query',
    clientAuth: connection.clientAuthMethod ?? 'client_secret_basic',
  };
  const settings: UpstreamSettings = {
    ...base,
    emailsEndpoint: base.emailsEndpoint,
    // The admin's issuer is compared as written: an OIDC issuer is an exact string (OIDC Discovery §4.3).
    issuer: connection.issuer ?? base.issuer,
    authorizationEndpoint: connection.authorizationEndpoint ?? base.authorizationEndpoint,
    tokenEndpoint: connection.tokenEndpoint ?? base.tokenEndpoint,
    userinfoEndpoint: connection.userinfoEndpoint ?? base.userinfoEndpoint,
    scopes: connection.scopes ?? base.scopes,
    claims: { ...OIDC_CLAIMS, ...base.claims, ...connection.claimMapping },
    tenantIssuerTemplate: base.tenantIssuerTemplate,
    tenantId: base.tenantId,
    hostedDomain: base.hostedDomain,
  };
  checkRules(connection, settings);
  return settings;
}

function checkRules(connection: ConnectionDraft, settings: UpstreamSettings): void {
  const fail = (field: string, message: string): never => {
    throw new InvalidInputError(field, message);
  };
  if (connection.preset === 'custom' && !connection.kind)
    fail('kind', 'is required for a custom connection (oidc or oauth2)');
  if (connection.preset !== 'custom' && connection.kind && connection.kind !== settings.kind) {
    fail('kind', `must be ${settings.kind} for the ${connection.preset} preset (or left out)`);
  }
  if (!settings.issuer)
    fail(
      'issuer',
      settings.kind === 'oidc' ? 'is required for an OpenID Connect connection' : "is required (the server's base URL)",
    );
  if (settings.kind === 'oauth2') {
    if (!settings.authorizationEndpoint) fail('authorization_endpoint', 'is required for an OAuth 2 connection');
    if (!settings.tokenEndpoint) fail('token_endpoint', 'is required for an OAuth 2 connection');
    if (!settings.userinfoEndpoint)
      fail('userinfo_endpoint', 'is required for an OAuth 2 connection (where the profile is read)');
  }
  if (settings.kind === 'oidc' && !settings.scopes.includes('openid'))
    fail('scopes', 'must include openid for an OpenID Connect connection');
  if (settings.clientAuth === 'apple') {
    if (!connection.options.teamId) fail('options.team_id', 'is required for Sign in with Apple');
    if (!connection.options.keyId) fail('options.key_id', 'is required for Sign in with Apple');
    if (connection.clientAuthMethod)
      fail('client_auth_method', 'is not used by Sign in with Apple (its secret is a JWT made from the key)');
  }
  if (!connection.hasSecret) {
    const needs =
      settings.clientAuth === 'apple' || settings.clientAuth === 'private_key_jwt' ? 'private_key' : 'client_secret';
    fail(
      needs,
      settings.clientAuth === 'apple'
        ? 'is required for Sign in with Apple (the .p8 key)'
        : `is required for ${settings.clientAuth}`,
    );
  }
  if (connection.options.tenant && connection.preset !== 'microsoft')
    fail('options.tenant', 'is only for the microsoft preset');
  if (connection.options.hostedDomain && connection.preset !== 'google')
    fail('options.hosted_domain', 'is only for the google preset');
  if ((connection.options.teamId || connection.options.keyId) && connection.preset !== 'apple')
    fail('options.team_id', 'is only for the apple preset');
  if (connection.options.apiUrl && connection.preset !== 'github')
    fail('options.api_url', 'is only for the github preset');
}

/** Whether the secret the admin gives is a private key (PEM) rather than a client secret. */
export function usesPrivateKey(settings: Pick<UpstreamSettings, 'clientAuth'>): boolean {
  return settings.clientAuth === 'apple' || settings.clientAuth === 'private_key_jwt';
}
