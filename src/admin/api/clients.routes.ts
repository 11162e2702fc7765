import { z } from 'zod';
import {
  AUTH_METHODS,
  GRANT_TYPES,
  ID_TOKEN_ALGS,
  SCOPES,
  clientInputOf,
  type ClientInput,
} from '../../clients/client-registry.js';
import type { ClientRow } from '../../storage/entities/client.entity.js';
import { APPLICATION_TYPES, applicationTypeInput } from '../../clients/application-types.js';
import { ADMIN_SCOPES, MAX_REFRESH_REUSE_GRACE_SECONDS } from '../../clients/client-metadata.js';
import type { AdminServices } from '../services.js';
import { decodeCursor, idParams, iso, pageOf, pageQuery, pageResponse, timestamp } from './common.js';
import { defineRoute, parseInput } from './route.js';
import {
  identityCreateFields,
  identityFields,
  identityInputFrom,
  identityView,
  viewIdentity,
} from './client-identity-fields.js';
import { linkCreateFields, linksInputFrom, linksView, viewLinks } from './client-links-fields.js';

const uris = z.array(z.string().max(2000)).max(50);

/** The per-client switches of the flows of issue 19 (src/clients/client-flows.ts, docs/protocol.md). */
const flowFields = {
  dpop_bound_access_tokens: z
    .boolean()
    .describe('RFC 9449: every token request must carry a DPoP proof; tokens are bound to its key.'),
  require_pushed_authorization_requests: z
    .boolean()
    .describe('RFC 9126: authorization requests only through the pushed authorization request endpoint.'),
  fapi: z
    .boolean()
    .describe(
      'FAPI 2.0 Security Profile: PAR, DPoP-bound tokens, private_key_jwt, PKCE S256, codes of at most 60 s (docs/protocol.md).',
    ),
};

/** The per-client switches of codes by email and SMS (issue 18, src/clients/client-codes.ts, docs/factors.md). */
const codeFields = {
  sms: z
    .boolean()
    .describe(
      'false: sign-ins to this client never offer SMS codes (a restricted authenticator); true: as the deployment (sms.enabled).',
    ),
  email_sign_in: z
    .boolean()
    .describe(
      'false: no email sign-in (link or code without a password) for this client; true: as the deployment (codes.emailSignIn).',
    ),
};

/** What an admin sends to create a client; defaults match `gatehouse clients create`. */
const clientFields = {
  name: z.string().min(1).max(200),
  redirect_uris: uris,
  post_logout_redirect_uris: uris,
  public: z.boolean().describe('A public client (SPA, native app) authenticates with "none" and uses PKCE alone.'),
  first_party: z.boolean().describe('First-party clients skip the consent page.'),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1),
  scope: z
    .string()
    .max(1000)
    .describe(`Space-separated; from ${SCOPES.join(', ')}.`),
  token_endpoint_auth_method: z.enum(AUTH_METHODS),
  id_token_signed_response_alg: z.enum(ID_TOKEN_ALGS),
  jwks_uri: z.string().max(2000),
  jwks: z
    .object({ keys: z.array(z.record(z.string(), z.unknown())) })
    .describe('Public keys for private_key_jwt, instead of jwks_uri.'),
  mfa: z.enum(['optional', 'required']),
  visible_roles: z.array(z.string().max(100)).max(100),
  admin_scopes: z
    .array(z.enum(ADMIN_SCOPES))
    .describe('Admin API scopes for a confidential client_credentials client.'),
  backchannel_logout_uri: z
    .string()
    .max(2000)
    .describe(
      'OIDC Back-Channel Logout 1.0: where logout tokens are posted (https, or http on loopback); "" removes it.',
    ),
  backchannel_logout_session_required: z.boolean().describe("Logout tokens carry the session's sid."),
  refresh_token_reuse_grace_seconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_REFRESH_REUSE_GRACE_SECONDS)
    .describe(
      'Seconds during which a refresh token that was just rotated may be presented again while its successor is unused (a lost response); 0: never (reuse revokes the grant).',
    ),
  ...identityFields,
  ...flowFields,
  ...codeFields,
  ...linkCreateFields,
};

/**
 * `template` (issue 21): start from an application type's preset, as the console's "New
 * application" does. Named so, not `application_type`, which is OIDC registration metadata
 * (web | native) with another meaning.
 */
const template = z
  .enum(APPLICATION_TYPES)
  .describe(
    'Start from an application type\'s preset (docs/admin-console.md, "Application types"): it sets public, grant_types, token_endpoint_auth_method and scope unless given, and refuses fields that contradict the type.',
  );

const createBody = z.strictObject({
  ...clientFields,
  template: template.optional(),
  redirect_uris: clientFields.redirect_uris.default([]),
  post_logout_redirect_uris: clientFields.post_logout_redirect_uris.default([]),
  public: clientFields.public.default(false),
  first_party: clientFields.first_party.default(false),
  grant_types: clientFields.grant_types.default(['authorization_code', 'refresh_token']),
  scope: clientFields.scope.default('openid profile email offline_access'),
  token_endpoint_auth_method: clientFields.token_endpoint_auth_method.optional(),
  id_token_signed_response_alg: clientFields.id_token_signed_response_alg.optional(),
  jwks_uri: clientFields.jwks_uri.optional(),
  jwks: clientFields.jwks.optional(),
  mfa: clientFields.mfa.optional(),
  visible_roles: clientFields.visible_roles.optional(),
  admin_scopes: clientFields.admin_scopes.optional(),
  backchannel_logout_uri: clientFields.backchannel_logout_uri.optional(),
  backchannel_logout_session_required: clientFields.backchannel_logout_session_required.optional(),
  refresh_token_reuse_grace_seconds: clientFields.refresh_token_reuse_grace_seconds.optional(),
  ...identityCreateFields,
  dpop_bound_access_tokens: clientFields.dpop_bound_access_tokens.optional(),
  require_pushed_authorization_requests: clientFields.require_pushed_authorization_requests.optional(),
  fapi: clientFields.fapi.optional(),
  sms: clientFields.sms.optional(),
  email_sign_in: clientFields.email_sign_in.optional(),
});

const updateBody = z.strictObject(clientFields).partial();

/** With a template, only the fields the admin sent count: the create schema's defaults would override the preset. */
const templateBody = updateBody.extend({ name: clientFields.name, template });

type ClientFields = Partial<z.output<typeof updateBody>>;

function toInput(body: ClientFields): Partial<ClientInput> {
  const input: Partial<ClientInput> = { ...identityInputFrom(body), ...linksInputFrom(body) };
  if (body.name !== undefined) input.name = body.name;
  if (body.redirect_uris !== undefined) input.redirectUris = body.redirect_uris;
  if (body.post_logout_redirect_uris !== undefined) input.postLogoutRedirectUris = body.post_logout_redirect_uris;
  if (body.public !== undefined) input.public = body.public;
  if (body.first_party !== undefined) input.firstParty = body.first_party;
  if (body.grant_types !== undefined) input.grantTypes = body.grant_types;
  if (body.scope !== undefined) input.scope = body.scope;
  if (body.token_endpoint_auth_method !== undefined) input.authMethod = body.token_endpoint_auth_method;
  if (body.id_token_signed_response_alg !== undefined) input.idTokenAlg = body.id_token_signed_response_alg;
  if (body.jwks_uri !== undefined) input.jwksUri = body.jwks_uri;
  if (body.jwks !== undefined) input.jwks = body.jwks;
  if (body.mfa !== undefined) input.mfa = body.mfa;
  if (body.visible_roles !== undefined) input.visibleRoles = body.visible_roles;
  if (body.admin_scopes !== undefined) input.adminScopes = body.admin_scopes;
  if (body.backchannel_logout_uri !== undefined) input.backchannelLogoutUri = body.backchannel_logout_uri;
  if (body.backchannel_logout_session_required !== undefined)
    input.backchannelLogoutSessionRequired = body.backchannel_logout_session_required;
  if (body.refresh_token_reuse_grace_seconds !== undefined)
    input.refreshReuseGraceSeconds = body.refresh_token_reuse_grace_seconds;
  if (body.dpop_bound_access_tokens !== undefined) input.dpopBoundAccessTokens = body.dpop_bound_access_tokens;
  if (body.require_pushed_authorization_requests !== undefined)
    input.requirePushedAuthorizationRequests = body.require_pushed_authorization_requests;
  if (body.fapi !== undefined) input.fapi = body.fapi;
  if (body.sms !== undefined) input.sms = body.sms;
  if (body.email_sign_in !== undefined) input.emailSignIn = body.email_sign_in;
  return input;
}

/** A create with a template: the type's preset under the fields the admin sent, checked against the type. */
function fromTemplate(raw: unknown): ClientInput {
  const { template: type, ...given } = parseInput(templateBody, raw, 'body');
  return applicationTypeInput(type, { ...toInput(given), name: given.name });
}

export const clientView = z.object({
  client_id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'pending']),
  source: z.enum(['admin', 'registration']),
  first_party: z.boolean(),
  public: z.boolean(),
  redirect_uris: z.array(z.string()),
  post_logout_redirect_uris: z.array(z.string()),
  grant_types: z.array(z.string()),
  scope: z.string(),
  token_endpoint_auth_method: z.string(),
  id_token_signed_response_alg: z.string().nullable(),
  jwks_uri: z.string().nullable(),
  mfa: z.string(),
  visible_roles: z.array(z.string()),
  admin_scopes: z.array(z.string()),
  backchannel_logout_uri: z.string().nullable(),
  backchannel_logout_session_required: z.boolean(),
  refresh_token_reuse_grace_seconds: z.number().int(),
  ...identityView,
  dpop_bound_access_tokens: z.boolean(),
  require_pushed_authorization_requests: z.boolean(),
  fapi: z.boolean(),
  sms: z.boolean(),
  email_sign_in: z.boolean(),
  ...linksView,
  created_at: timestamp,
  updated_at: timestamp,
});

function viewClient(row: ClientRow): z.input<typeof clientView> {
  const input = clientInputOf(row);
  return {
    client_id: row.id,
    name: row.name,
    status: row.status,
    source: row.source,
    first_party: row.firstParty,
    public: input.public,
    redirect_uris: input.redirectUris,
    post_logout_redirect_uris: input.postLogoutRedirectUris,
    grant_types: input.grantTypes,
    scope: input.scope,
    token_endpoint_auth_method: input.authMethod ?? 'client_secret_basic',
    id_token_signed_response_alg: input.idTokenAlg ?? null,
    jwks_uri: input.jwksUri ?? null,
    mfa: input.mfa ?? 'optional',
    visible_roles: input.visibleRoles ?? [],
    admin_scopes: input.adminScopes ?? [],
    backchannel_logout_uri: input.backchannelLogoutUri ?? null,
    backchannel_logout_session_required: input.backchannelLogoutSessionRequired === true,
    refresh_token_reuse_grace_seconds: input.refreshReuseGraceSeconds ?? 0,
    ...viewIdentity(input),
    dpop_bound_access_tokens: input.dpopBoundAccessTokens === true,
    require_pushed_authorization_requests: input.requirePushedAuthorizationRequests === true,
    fapi: input.fapi === true,
    sms: input.sms !== false,
    email_sign_in: input.emailSignIn !== false,
    ...viewLinks(input),
    created_at: iso(row.createdAt) ?? '',
    updated_at: iso(row.updatedAt) ?? '',
  };
}

/** A client with the secret that was just issued: the only time it is ever shown. */
const issuedView = clientView.extend({
  client_secret: z.string().nullable().describe('Shown once; only its digest is stored.'),
});

export function clientRoutes(admin: AdminServices) {
  return [
    defineRoute({
      method: 'get',
      path: '/clients',
      tag: 'clients',
      scope: 'admin:read',
      summary: 'List clients (oldest first); status=pending is the approval queue',
      query: pageQuery.extend({ status: z.enum(['active', 'pending']).optional() }),
      status: 200,
      response: pageOf(clientView),
      handler: async ({ query }) =>
        pageResponse(
          await admin.clients.page({ status: query.status, after: decodeCursor(query.cursor), limit: query.limit }),
          viewClient,
        ),
    }),
    defineRoute({
      method: 'post',
      path: '/clients',
      tag: 'clients',
      scope: 'admin:write',
      summary: "Register a client; a confidential client's secret is in this response only",
      body: createBody,
      status: 201,
      response: issuedView,
      async handler({ body, actor, ctx }) {
        const input = body.template
          ? fromTemplate(ctx.request.body)
          : { ...(toInput(body) as ClientInput), name: body.name };
        const { client, clientSecret } = await admin.clients.create(input, actor);
        return { ...viewClient(client), client_secret: clientSecret };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/clients/:id',
      tag: 'clients',
      scope: 'admin:read',
      summary: 'Read a client',
      params: idParams,
      status: 200,
      response: clientView,
      handler: async ({ params }) => viewClient(await admin.clients.get(params.id)),
    }),
    defineRoute({
      method: 'patch',
      path: '/clients/:id',
      tag: 'clients',
      scope: 'admin:write',
      summary: 'Change some fields of a client (validated as a whole)',
      params: idParams,
      body: updateBody,
      status: 200,
      response: issuedView,
      async handler({ params, body, actor }) {
        const { client, clientSecret } = await admin.clients.update(params.id, toInput(body), actor);
        return { ...viewClient(client), client_secret: clientSecret };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/clients/:id',
      tag: 'clients',
      scope: 'admin:write',
      summary: 'Delete a client and revoke everything issued to it',
      params: idParams,
      status: 204,
      handler: async ({ params, actor }) => {
        await admin.clients.delete(params.id, actor);
        return undefined;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/clients/:id/secret',
      tag: 'clients',
      scope: 'admin:write',
      summary: 'Rotate the client secret (the new one is in this response only)',
      params: idParams,
      status: 200,
      response: z.object({ client_id: z.string(), client_secret: z.string() }),
      handler: async ({ params, actor }) => ({
        client_id: params.id,
        client_secret: await admin.clients.rotateSecret(params.id, actor),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/clients/:id/approve',
      tag: 'clients',
      scope: 'admin:write',
      summary: 'Approve a pending (dynamically registered) client',
      params: idParams,
      status: 200,
      response: clientView,
      handler: async ({ params, actor }) => viewClient(await admin.clients.approve(params.id, actor)),
    }),
    defineRoute({
      method: 'post',
      path: '/clients/:id/reject',
      tag: 'clients',
      scope: 'admin:write',
      summary: 'Reject (delete) a pending client',
      params: idParams,
      status: 204,
      handler: async ({ params, actor }) => {
        await admin.clients.reject(params.id, actor);
        return undefined;
      },
    }),
  ];
}
