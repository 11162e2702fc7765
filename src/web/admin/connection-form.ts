import { z } from 'zod';
import {
  CLIENT_AUTH_METHODS,
  PRESETS,
  type ClaimMapping,
  type Connection,
  type ConnectionInput,
  type RoleRule,
} from '../../federation/connection.js';
import { InvalidInputError } from '../../errors/domain-errors.js';
import { checkbox, optionalText, text } from '../kit/form-fields.js';

/** The claims an admin may map, with the form field of each (`claim_<field>`). */
const CLAIMS = [
  ['subject', 'subject'],
  ['email', 'email'],
  ['emailVerified', 'email_verified'],
  ['name', 'name'],
  ['givenName', 'given_name'],
  ['familyName', 'family_name'],
  ['picture', 'picture'],
  ['groups', 'groups'],
] as const satisfies ReadonlyArray<readonly [keyof ClaimMapping, string]>;

/** The preset options, by their form (and API) field names. */
const OPTIONS = [
  ['hostedDomain', 'hosted_domain'],
  ['tenant', 'tenant'],
  ['baseUrl', 'base_url'],
  ['apiUrl', 'api_url'],
  ['teamId', 'team_id'],
  ['keyId', 'key_id'],
] as const;

/** What the form offers to choose from. */
export const CONNECTION_CHOICES = {
  presets: PRESETS,
  kinds: ['oidc', 'oauth2'],
  authMethods: CLIENT_AUTH_METHODS,
  claims: CLAIMS.map(([, field]) => field),
} as const;

/** Space- or comma-separated words (domains, scopes, client ids). */
const words = (value: string) => value.split(/[\s,]+/).filter(Boolean);

/** `group:GROUP=ROLE` or `domain:DOMAIN=ROLE`, one a line, as the CLI's --role-rule. */
function roleRules(value: string): RoleRule[] {
  return value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line, index) => {
      const [, by, match = '', role = ''] = /^(group|domain):(.+)=([^=]+)$/.exec(line) ?? [];
      if (!by)
        throw new InvalidInputError(`role_rules`, `line ${index + 1} must be group:GROUP=ROLE or domain:DOMAIN=ROLE`);
      return by === 'group'
        ? { group: match.trim(), role: role.trim() }
        : { emailDomain: match.trim(), role: role.trim() };
    });
}

/** A connection's role rules as the form's lines. */
const roleRuleLines = (rules: RoleRule[]): string =>
  rules.map((r) => ('group' in r ? `group:${r.group}=${r.role}` : `domain:${r.emailDomain}=${r.role}`)).join('\n');

const fields = {
  id: text({ trim: true }),
  display_name: text(),
  preset: text(),
  kind: optionalText(),
  issuer: optionalText({ trim: true }),
  authorization_endpoint: optionalText({ trim: true }),
  token_endpoint: optionalText({ trim: true }),
  userinfo_endpoint: optionalText({ trim: true }),
  client_id: text({ trim: true }),
  client_auth_method: optionalText(),
  client_secret: optionalText(),
  private_key: optionalText({ trim: true }),
  private_key_id: optionalText({ trim: true }),
  scopes: text(),
  enabled: checkbox(),
  order: text({ trim: true }),
  icon: optionalText({ trim: true }),
  allowed_email_domains: text(),
  home_realm_domains: text(),
  create_accounts: checkbox(),
  trust_email_verification: checkbox(),
  trust_upstream_mfa: checkbox(),
  mfa_acr_values: text(),
  allowed_clients: text(),
  role_rules: text(),
  upstream_sign_out: checkbox(),
  ...Object.fromEntries(CLAIMS.map(([, field]) => [`claim_${field}`, optionalText({ trim: true })])),
  ...Object.fromEntries(OPTIONS.map(([, field]) => [field, optionalText({ trim: true })])),
} as Record<string, z.ZodType<string | boolean | undefined>>;

/**
 * The posted form, one flat field a value; the connection's own rules are the domain's
 * (federation/connection.ts), checked when the service is called. The secret and private key
 * are write-only: blank means "keep the stored one" (absent from the input).
 */
export const connectionForm = z.object(fields).transform((raw) => raw as Record<string, string | boolean | undefined>);
export type ConnectionFormValues = z.output<typeof connectionForm>;

const str = (form: ConnectionFormValues, name: string): string | undefined => {
  const value = form[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};
const flag = (form: ConnectionFormValues, name: string): boolean => form[name] === true;

/** An order the form may give: a whole number; the domain checks its range. */
function orderOf(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^-?\d{1,6}$/.test(value)) throw new InvalidInputError('order', 'must be a whole number');
  return Number(value);
}

/** The form as the connections service's input (every field present, so an update replaces each). */
export function connectionInputOf(form: ConnectionFormValues): ConnectionInput {
  const preset = (str(form, 'preset') ?? 'custom') as ConnectionInput['preset'];
  const claimMapping: Partial<ClaimMapping> = {};
  for (const [key, field] of CLAIMS) {
    const claim = str(form, `claim_${field}`);
    if (claim) claimMapping[key] = claim;
  }
  const options: NonNullable<ConnectionInput['options']> = {};
  for (const [key, field] of OPTIONS) {
    const value = str(form, field);
    if (value) options[key] = value;
  }
  const scopes = words(str(form, 'scopes') ?? '');
  const allowedClients = words(str(form, 'allowed_clients') ?? '');
  const input: ConnectionInput = {
    id: str(form, 'id') ?? '',
    displayName: str(form, 'display_name') ?? '',
    preset,
    // The kind is the preset's own unless it is custom (a preset refuses another).
    kind: preset === 'custom' ? (str(form, 'kind') as ConnectionInput['kind']) : undefined,
    issuer: str(form, 'issuer'),
    authorizationEndpoint: str(form, 'authorization_endpoint'),
    tokenEndpoint: str(form, 'token_endpoint'),
    userinfoEndpoint: str(form, 'userinfo_endpoint'),
    clientId: str(form, 'client_id') ?? '',
    clientAuthMethod: str(form, 'client_auth_method') as ConnectionInput['clientAuthMethod'],
    privateKeyId: str(form, 'private_key_id'),
    scopes: scopes.length > 0 ? scopes : undefined,
    claimMapping,
    enabled: flag(form, 'enabled'),
    order: orderOf(str(form, 'order')),
    icon: str(form, 'icon') ?? null,
    allowedEmailDomains: words(str(form, 'allowed_email_domains') ?? ''),
    homeRealmDomains: words(str(form, 'home_realm_domains') ?? ''),
    createAccounts: flag(form, 'create_accounts'),
    trustEmailVerification: flag(form, 'trust_email_verification'),
    trustUpstreamMfa: flag(form, 'trust_upstream_mfa'),
    mfaAcrValues: words(str(form, 'mfa_acr_values') ?? ''),
    // Blank: every client (an empty list would offer it to none, which disabling already does).
    allowedClients: allowedClients.length > 0 ? allowedClients : null,
    roleRules: roleRules(str(form, 'role_rules') ?? ''),
    upstreamSignOut: flag(form, 'upstream_sign_out'),
    options,
  };
  const secret = str(form, 'client_secret');
  const privateKey = str(form, 'private_key');
  return { ...input, ...(secret ? { clientSecret: secret } : {}), ...(privateKey ? { privateKey } : {}) };
}

/** What the form shows: the connection as it is (never its secret), or what the admin typed. */
export function connectionFormValues(connection: Connection): ConnectionFormValues {
  const values: ConnectionFormValues = {
    id: connection.id,
    display_name: connection.displayName,
    preset: connection.preset,
    kind: connection.preset === 'custom' ? connection.kind : undefined,
    issuer: connection.issuer,
    authorization_endpoint: connection.authorizationEndpoint,
    token_endpoint: connection.tokenEndpoint,
    userinfo_endpoint: connection.userinfoEndpoint,
    client_id: connection.clientId,
    client_auth_method: connection.clientAuthMethod,
    private_key_id: connection.privateKeyId,
    scopes: (connection.scopes ?? []).join(' '),
    enabled: connection.enabled,
    order: String(connection.order),
    icon: connection.icon ?? undefined,
    allowed_email_domains: connection.allowedEmailDomains.join(' '),
    home_realm_domains: connection.homeRealmDomains.join(' '),
    create_accounts: connection.createAccounts,
    trust_email_verification: connection.trustEmailVerification,
    trust_upstream_mfa: connection.trustUpstreamMfa,
    mfa_acr_values: connection.mfaAcrValues.join(' '),
    allowed_clients: (connection.allowedClients ?? []).join(' '),
    role_rules: roleRuleLines(connection.roleRules),
    upstream_sign_out: connection.upstreamSignOut,
  };
  for (const [key, field] of CLAIMS) values[`claim_${field}`] = connection.claimMapping[key];
  for (const [key, field] of OPTIONS) values[field] = connection.options[key];
  return values;
}

/** What a new connection's form starts with. */
export const NEW_CONNECTION: ConnectionFormValues = { preset: 'custom', kind: 'oidc', enabled: true, order: '0' };

/** The service's name for a refused field → the form field beside which it is shown. */
export function formFieldOf(field: string): string {
  if (field.startsWith('options.')) return field.slice('options.'.length);
  if (field.startsWith('claim_mapping.')) return `claim_${field.slice('claim_mapping.'.length)}`;
  if (field.startsWith('role_rules.')) return 'role_rules';
  if (field === 'connection') return 'id';
  return field;
}

/** Secrets are never put back in a form shown again. */
export function withoutSecrets(form: ConnectionFormValues): ConnectionFormValues {
  const { client_secret: _secret, private_key: _key, ...rest } = form;
  return rest;
}
