import { z } from 'zod';
import { CLIENT_AUTH_METHODS, PRESETS, type Connection, type ConnectionInput } from '../../federation/connection.js';
import { federationRedirectUri } from '../../federation/federation.service.js';
import { federationSignedOutUri } from '../../federation/upstream-sign-out.js';
import type { LinkedIdentity } from '../../federation/federation.service.js';
import type { AdminServices } from '../services.js';
import { idParams, iso, timestamp } from './common.js';
import { defineRoute } from './route.js';

// The API's shapes of a connection (issue 17, docs/federation.md "Administration"): types and
// lengths here, for the document; the rules of each value and across values are the domain's
// (federation/connection.ts, presets.ts), which names a refused field the same snake_case way.

const url = z.string().max(2048);
const text = z.string().max(255);
const strings = (max: number) => z.array(z.string().max(255)).max(max);

const claimMapping = z
  .strictObject({
    subject: text,
    email: text,
    email_verified: text,
    name: text,
    given_name: text,
    family_name: text,
    picture: text,
    groups: text,
  })
  .partial()
  .describe("Which upstream claim holds each value; the preset's (or OpenID's) names where absent.");

const roleRule = z
  .union([z.strictObject({ group: text, role: text }), z.strictObject({ email_domain: text, role: text })])
  .describe(
    'A new account gets `role` when the upstream names it in `group`, or its verified address is at `email_domain`.',
  );

const presetOptions = z
  .strictObject({
    hosted_domain: text.describe('Google: the Workspace domain (`hd`), which ID tokens must carry.'),
    tenant: text.describe('Microsoft: a tenant id or domain, or common, organizations, consumers.'),
    base_url: url.describe("GitHub Enterprise, self-managed GitLab: where the preset's URLs start."),
    api_url: url.describe("GitHub: the REST API's root."),
    team_id: text.describe('Apple: the team id.'),
    key_id: text.describe("Apple: the Sign in with Apple key's id."),
  })
  .partial();

/** Every field an admin writes; `id` only on create. null clears an optional field. */
const writable = {
  display_name: z.string().max(200),
  preset: z.enum(PRESETS).describe('A provider Gatehouse knows the settings of, or custom.'),
  kind: z.enum(['oidc', 'oauth2']).describe('Required for a custom connection; a preset knows its own.'),
  issuer: url.nullable().describe('OIDC: the issuer (discovery). https, or http on loopback.'),
  authorization_endpoint: url.nullable(),
  token_endpoint: url.nullable(),
  userinfo_endpoint: url.nullable(),
  client_id: text,
  client_auth_method: z.enum(CLIENT_AUTH_METHODS).nullable(),
  client_secret: z
    .string()
    .max(4096)
    .describe('Write-only: sealed at rest, never returned (see has_secret). Absent on update: kept.'),
  private_key: z
    .string()
    .max(10_000)
    .describe("Write-only: a PEM PKCS #8 key for private_key_jwt or Apple's .p8; never returned."),
  private_key_id: text.nullable().describe('The `kid` the upstream knows the private key by.'),
  scopes: strings(50).nullable().describe("Scopes to ask for; the preset's when null."),
  claim_mapping: claimMapping,
  enabled: z.boolean(),
  order: z.number().int().describe('Position on the sign-in page (lowest first).'),
  icon: z.string().max(40).nullable().describe("An icon shipped with Gatehouse; the preset's when null."),
  allowed_email_domains: strings(100).describe(
    'Only verified addresses at these domains sign in through it; empty: every domain.',
  ),
  home_realm_domains: strings(100).describe(
    'An address typed at one of these domains goes straight to this connection.',
  ),
  create_accounts: z.boolean().describe('Create an account at the first sign-in of an unknown identity.'),
  trust_email_verification: z.boolean().describe("The upstream's email_verified counts."),
  trust_upstream_mfa: z
    .boolean()
    .describe("The upstream's MFA (amr mfa, or an acr of mfa_acr_values) counts as the second factor."),
  mfa_acr_values: strings(20),
  allowed_clients: strings(1000).nullable().describe('The clients whose sign-in page offers it; null: every client.'),
  role_rules: z.array(roleRule).max(100),
  upstream_sign_out: z
    .boolean()
    .describe('Signing out of Gatehouse also signs out at an OIDC upstream with an end_session_endpoint.'),
  options: presetOptions,
};

const createBody = z
  .strictObject({
    ...writable,
    id: z.string().max(64).describe('A slug: in the redirect URI and the upstream= hint; never changes.'),
  })
  .partial()
  .required({ id: true, display_name: true, client_id: true });

const updateBody = z.strictObject(writable).partial();

type Body = z.output<typeof updateBody>;
type RoleRuleBody = z.output<typeof roleRule>;

/** Only the fields the body names: an update merges them over the connection; null clears. */
function toInput(body: Body): Partial<ConnectionInput> {
  const input: Partial<ConnectionInput> = {};
  const clear = <T>(value: T | null): T | undefined => value ?? undefined;
  if (body.display_name !== undefined) input.displayName = body.display_name;
  if (body.preset !== undefined) input.preset = body.preset;
  if (body.kind !== undefined) input.kind = body.kind;
  if (body.issuer !== undefined) input.issuer = clear(body.issuer);
  if (body.authorization_endpoint !== undefined) input.authorizationEndpoint = clear(body.authorization_endpoint);
  if (body.token_endpoint !== undefined) input.tokenEndpoint = clear(body.token_endpoint);
  if (body.userinfo_endpoint !== undefined) input.userinfoEndpoint = clear(body.userinfo_endpoint);
  if (body.client_id !== undefined) input.clientId = body.client_id;
  if (body.client_auth_method !== undefined) input.clientAuthMethod = clear(body.client_auth_method);
  if (body.client_secret !== undefined) input.clientSecret = body.client_secret;
  if (body.private_key !== undefined) input.privateKey = body.private_key;
  if (body.private_key_id !== undefined) input.privateKeyId = clear(body.private_key_id);
  if (body.scopes !== undefined) input.scopes = clear(body.scopes);
  if (body.claim_mapping !== undefined) {
    const m = body.claim_mapping;
    input.claimMapping = {
      subject: m.subject,
      email: m.email,
      emailVerified: m.email_verified,
      name: m.name,
      givenName: m.given_name,
      familyName: m.family_name,
      picture: m.picture,
      groups: m.groups,
    };
  }
  if (body.enabled !== undefined) input.enabled = body.enabled;
  if (body.order !== undefined) input.order = body.order;
  if (body.icon !== undefined) input.icon = body.icon;
  if (body.allowed_email_domains !== undefined) input.allowedEmailDomains = body.allowed_email_domains;
  if (body.home_realm_domains !== undefined) input.homeRealmDomains = body.home_realm_domains;
  if (body.create_accounts !== undefined) input.createAccounts = body.create_accounts;
  if (body.trust_email_verification !== undefined) input.trustEmailVerification = body.trust_email_verification;
  if (body.trust_upstream_mfa !== undefined) input.trustUpstreamMfa = body.trust_upstream_mfa;
  if (body.mfa_acr_values !== undefined) input.mfaAcrValues = body.mfa_acr_values;
  if (body.allowed_clients !== undefined) input.allowedClients = body.allowed_clients;
  if (body.role_rules !== undefined) {
    input.roleRules = body.role_rules.map((rule: RoleRuleBody) =>
      'group' in rule ? rule : { emailDomain: rule.email_domain, role: rule.role },
    );
  }
  if (body.upstream_sign_out !== undefined) input.upstreamSignOut = body.upstream_sign_out;
  if (body.options !== undefined) {
    const o = body.options;
    input.options = {
      hostedDomain: o.hosted_domain,
      tenant: o.tenant,
      baseUrl: o.base_url,
      apiUrl: o.api_url,
      teamId: o.team_id,
      keyId: o.key_id,
    };
  }
  // An absent key and a key set to undefined differ to the update's merge: drop nested undefineds only.
  for (const nested of [input.claimMapping, input.options]) {
    if (nested)
      for (const key of Object.keys(nested) as Array<keyof typeof nested>)
        if (nested[key] === undefined) delete nested[key];
  }
  return input;
}

const connectionView = z.object({
  id: z.string(),
  display_name: z.string(),
  preset: z.enum(PRESETS),
  kind: z.enum(['oidc', 'oauth2']),
  issuer: z.string().nullable(),
  authorization_endpoint: z.string().nullable(),
  token_endpoint: z.string().nullable(),
  userinfo_endpoint: z.string().nullable(),
  client_id: z.string(),
  client_auth_method: z.enum(CLIENT_AUTH_METHODS).nullable(),
  has_secret: z.boolean().describe('Whether a client secret or private key is stored (it is never returned).'),
  private_key_id: z.string().nullable(),
  scopes: z.array(z.string()).nullable(),
  claim_mapping: claimMapping,
  enabled: z.boolean(),
  order: z.number().int(),
  icon: z.string().nullable(),
  allowed_email_domains: z.array(z.string()),
  home_realm_domains: z.array(z.string()),
  create_accounts: z.boolean(),
  trust_email_verification: z.boolean(),
  trust_upstream_mfa: z.boolean(),
  mfa_acr_values: z.array(z.string()),
  allowed_clients: z.array(z.string()).nullable(),
  role_rules: z.array(roleRule),
  upstream_sign_out: z.boolean(),
  options: presetOptions,
  redirect_uri: z.string().describe('Register this at the upstream: where it sends the person back.'),
  post_logout_redirect_uri: z
    .string()
    .describe(
      'With upstream_sign_out: register this at the upstream too, where it sends the person back after signing out.',
    ),
  created_at: timestamp,
  updated_at: timestamp,
});

/** Leaves out the keys whose value is undefined (a JSON object has no undefined members). */
function defined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function viewConnection(c: Connection, issuer: string): z.input<typeof connectionView> {
  const m = c.claimMapping;
  const o = c.options;
  return {
    id: c.id,
    display_name: c.displayName,
    preset: c.preset,
    kind: c.kind,
    issuer: c.issuer ?? null,
    authorization_endpoint: c.authorizationEndpoint ?? null,
    token_endpoint: c.tokenEndpoint ?? null,
    userinfo_endpoint: c.userinfoEndpoint ?? null,
    client_id: c.clientId,
    client_auth_method: c.clientAuthMethod ?? null,
    has_secret: c.hasSecret,
    private_key_id: c.privateKeyId ?? null,
    scopes: c.scopes ?? null,
    claim_mapping: defined({
      subject: m.subject,
      email: m.email,
      email_verified: m.emailVerified,
      name: m.name,
      given_name: m.givenName,
      family_name: m.familyName,
      picture: m.picture,
      groups: m.groups,
    }),
    enabled: c.enabled,
    order: c.order,
    icon: c.icon,
    allowed_email_domains: c.allowedEmailDomains,
    home_realm_domains: c.homeRealmDomains,
    create_accounts: c.createAccounts,
    trust_email_verification: c.trustEmailVerification,
    trust_upstream_mfa: c.trustUpstreamMfa,
    mfa_acr_values: c.mfaAcrValues,
    allowed_clients: c.allowedClients,
    role_rules: c.roleRules.map((rule) =>
      'group' in rule ? { group: rule.group, role: rule.role } : { email_domain: rule.emailDomain, role: rule.role },
    ),
    upstream_sign_out: c.upstreamSignOut,
    options: defined({
      hosted_domain: o.hostedDomain,
      tenant: o.tenant,
      base_url: o.baseUrl,
      api_url: o.apiUrl,
      team_id: o.teamId,
      key_id: o.keyId,
    }),
    redirect_uri: federationRedirectUri(issuer, c.id),
    post_logout_redirect_uri: federationSignedOutUri(issuer, c.id),
    created_at: iso(c.createdAt) ?? '',
    updated_at: iso(c.updatedAt) ?? '',
  };
}

const identityView = z.object({
  connection: z.string().describe("The connection's id."),
  connection_name: z.string(),
  email: z.string().nullable().describe('The address the upstream gave when the identity was linked.'),
  created_at: timestamp,
  last_used_at: timestamp.nullable(),
});

const viewIdentity = (i: LinkedIdentity): z.input<typeof identityView> => ({
  connection: i.connectionId,
  connection_name: i.connectionName,
  email: i.email,
  created_at: iso(i.createdAt) ?? '',
  last_used_at: iso(i.lastUsedAt),
});

const connectionParams = idParams.extend({ connection: z.string().min(1).max(255) });

/** /connections (upstream identity providers) and a user's linked identities. */
export function connectionRoutes(admin: AdminServices, issuer: string) {
  const view = (c: Connection) => viewConnection(c, issuer);
  return [
    defineRoute({
      method: 'get',
      path: '/connections',
      tag: 'connections',
      scope: 'admin:read',
      summary: 'List connections in sign-in page order',
      status: 200,
      response: z.object({ items: z.array(connectionView) }),
      handler: async () => ({ items: (await admin.connections.list()).map(view) }),
    }),
    defineRoute({
      method: 'post',
      path: '/connections',
      tag: 'connections',
      scope: 'admin:write',
      summary: 'Create a connection; its secret or key is sealed and never returned',
      conflicts: true,
      body: createBody,
      status: 201,
      response: connectionView,
      handler: async ({ body, actor }) =>
        view(
          await admin.connections.create(
            { ...toInput(body), id: body.id, displayName: body.display_name, clientId: body.client_id },
            actor,
          ),
        ),
    }),
    defineRoute({
      method: 'get',
      path: '/connections/:id',
      tag: 'connections',
      scope: 'admin:read',
      summary: 'Read a connection (without its secret)',
      params: idParams,
      status: 200,
      response: connectionView,
      handler: async ({ params }) => view(await admin.connections.get(params.id)),
    }),
    defineRoute({
      method: 'patch',
      path: '/connections/:id',
      tag: 'connections',
      scope: 'admin:write',
      summary: 'Change some fields of a connection (validated as a whole); the secret is kept unless given',
      params: idParams,
      body: updateBody,
      status: 200,
      response: connectionView,
      handler: async ({ params, body, actor }) => view(await admin.connections.update(params.id, toInput(body), actor)),
    }),
    defineRoute({
      method: 'delete',
      path: '/connections/:id',
      tag: 'connections',
      scope: 'admin:write',
      summary: 'Delete a connection and every identity linked through it',
      params: idParams,
      status: 204,
      handler: async ({ params, actor }) => {
        await admin.connections.delete(params.id, actor);
        return undefined;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/users/:id/identities',
      tag: 'connections',
      scope: 'admin:read',
      summary: 'List the upstream identities linked to a user',
      params: idParams,
      status: 200,
      response: z.object({ items: z.array(identityView) }),
      handler: async ({ params }) => ({ items: (await admin.identities.list(params.id)).map(viewIdentity) }),
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:id/identities/:connection',
      tag: 'connections',
      scope: 'admin:write',
      summary:
        "Remove a user's linked identity; allowed even when it is the last way to sign in (the audit event says so)",
      params: connectionParams,
      status: 204,
      handler: async ({ params, actor }) => {
        await admin.identities.unlink(params.id, params.connection, actor);
        return undefined;
      },
    }),
  ];
}
