import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { errors, type KoaContextWithOIDC, type Provider, type TokenEndpointGrantContext } from 'oidc-provider';
import { TOKEN_EXCHANGE_GRANT } from '../../clients/client-flows.js';
import { ACCESS_TOKEN_TYPE } from '../../permissions/permission-fields.js';
import { TOKEN_EXCHANGE_GTY, findResource, resourceServerInfo, type PermissionLookup } from './permissions.js';

/**
 * OAuth 2.0 Token Exchange (RFC 8693), delegation only: a client allowed to (its policy, table
 * token_exchange_policies) trades a user's access token for one aimed at another resource, and
 * the new token names the client in `act` (§4.1). Impersonation (a token for the user without
 * `act`) is never issued, and actor tokens are not taken: the actor is the authenticated client.
 * docs/protocol.md, "Token exchange (RFC 8693)".
 */

const PARAMETERS = [
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'resource',
  'audience',
  'scope',
] as const;

type ExchangeParams = Partial<Record<(typeof PARAMETERS)[number], string | string[]>>;

export interface TokenExchangeDeps {
  lookup: PermissionLookup;
  /** The provider's signing keys (private; their public halves verify JWT subject tokens). */
  signingJwks: readonly JWK[];
  issuer: string;
  /** Told of each token issued by exchange (the audit log). */
  exchanged(event: {
    clientId: string;
    accountId: string;
    resource: string;
    scope: string;
    subjectClientId: string;
  }): void;
}

/** The `act` claim of the token a request is issuing, read by extraTokenClaims (features/permissions.ts). */
const actors = new WeakMap<object, Record<string, unknown>>();
export const actorOf = (ctx: KoaContextWithOIDC): Record<string, unknown> | undefined => actors.get(ctx);

const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']);
const publicJwk = (jwk: JWK): JWK =>
  Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_MEMBERS.has(name))) as JWK;

const single = (value: string | string[] | undefined, name: string): string | undefined => {
  if (Array.isArray(value)) {
    if (value.length > 1) throw new errors.InvalidTarget(`only one ${name} may be named`);
    return value[0];
  }
  return value;
};

/**
 * The stored token a presented value names. Opaque tokens are looked up as they are; a JWT
 * (the tokens of resources) is first verified with the provider's own keys, then found by its
 * `jti`, so what is revoked or expired in storage is refused whatever the JWT says.
 */
async function findSubjectToken(
  provider: Provider,
  value: string,
  verify: (jwt: string) => Promise<string | undefined>,
) {
  const jti = value.split('.').length === 3 ? await verify(value) : value;
  return jti ? provider.AccessToken.find(jti) : undefined;
}

export function registerTokenExchange(provider: Provider, deps: TokenExchangeDeps): void {
  const keys = createLocalJWKSet({ keys: deps.signingJwks.map(publicJwk) });
  const verify = async (jwt: string): Promise<string | undefined> => {
    try {
      const { payload } = await jwtVerify(jwt, keys, { issuer: deps.issuer, typ: 'at+jwt' });
      return typeof payload.jti === 'string' ? payload.jti : undefined;
    } catch {
      return undefined;
    }
  };

  async function exchange(ctx: TokenEndpointGrantContext<ExchangeParams>): Promise<void> {
    const { client } = ctx.oidc;
    const params = ctx.oidc.params;
    const policy = await deps.lookup.exchangePolicyOf(client.clientId);
    if (!policy) throw new errors.UnauthorizedClient('this client may not exchange tokens');

    const subjectToken = single(params.subject_token, 'subject_token');
    const subjectType = single(params.subject_token_type, 'subject_token_type');
    if (!subjectToken) throw new errors.InvalidRequest("missing required parameter 'subject_token'");
    if (!subjectType) throw new errors.InvalidRequest("missing required parameter 'subject_token_type'");
    // §2.2.2: an unsupported token type is invalid_request.
    if (!policy.subjectTokenTypes.includes(subjectType))
      throw new errors.InvalidRequest('subject_token_type is not accepted for this client');
    if (params.actor_token !== undefined || params.actor_token_type !== undefined)
      throw new errors.InvalidRequest('actor_token is not supported: the actor is the authenticated client');
    const requested = single(params.requested_token_type, 'requested_token_type');
    if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE)
      throw new errors.InvalidRequest('only access tokens are issued by exchange');
    const scope = single(params.scope, 'scope');
    if (!scope) throw new errors.InvalidRequest("missing required parameter 'scope': name the permissions wanted");

    // §2.1: resource and audience both name the target; Gatehouse knows targets by indicator.
    const resourceParam = single(params.resource, 'resource');
    const audienceParam = single(params.audience, 'audience');
    if (resourceParam && audienceParam && resourceParam !== audienceParam)
      throw new errors.InvalidTarget('resource and audience name different targets');
    const indicator = resourceParam ?? audienceParam;
    if (!indicator) throw new errors.InvalidTarget('name the target with resource or audience');
    const resource = await findResource(deps.lookup, indicator);
    if (!resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
    if (!policy.targets.includes(resource.indicator))
      throw new errors.InvalidTarget('this client may not exchange tokens for that resource');

    const subject = await findSubjectToken(provider, subjectToken, verify);
    if (!subject || subject.isExpired || !subject.accountId || !subject.grantId)
      throw new errors.InvalidGrant('subject token is invalid, expired or revoked');
    // A sender-constrained token is useless without its key, and the exchanging client has not got it.
    if (subject.isSenderConstrained())
      throw new errors.InvalidGrant('a sender-constrained subject token cannot be exchanged');
    // Whose tokens the client may present: its own, or those aimed at an API this client is.
    const audiences = [subject.aud ?? []].flat();
    const own = subject.clientId === client.clientId;
    if (!own && !audiences.some((aud) => policy.subjectAudiences.includes(aud)))
      throw new errors.InvalidGrant('subject token was not issued to this client or for an audience it serves');
    const grant = await provider.Grant.find(subject.grantId);
    if (!grant || grant.accountId !== subject.accountId) throw new errors.InvalidGrant('subject token grant is gone');

    // What the user's roles grant on the target, now, and what was asked: the intersection.
    const granted = await deps.lookup.userPermissionNames(subject.accountId, resource.id);
    const asked = [...new Set(scope.split(' ').filter(Boolean))];
    const scopes = asked.filter((s) => granted.includes(s));
    if (scopes.length === 0) throw new errors.InvalidScope('the user holds none of the requested permissions', scope);

    const earlierActor = (subject.extra as Record<string, unknown> | undefined)?.act;
    actors.set(ctx, { sub: client.clientId, ...(earlierActor ? { act: earlierActor } : {}) });

    const token = new provider.AccessToken({
      accountId: subject.accountId,
      client,
      grantId: subject.grantId,
      gty: TOKEN_EXCHANGE_GTY,
      scope: scopes.join(' '),
      ...(subject.sessionUid ? { sessionUid: subject.sessionUid } : {}),
      ...(subject.expiresWithSession ? { expiresWithSession: subject.expiresWithSession } : {}),
      ...(subject.sid ? { sid: subject.sid } : {}),
    });
    token.resourceServer = new provider.ResourceServer(resource.indicator, resourceServerInfo(resource, granted));
    ctx.oidc.entity('AccessToken', token);
    const value = await token.save();
    deps.exchanged({
      clientId: client.clientId,
      accountId: subject.accountId,
      resource: resource.indicator,
      scope: token.scope ?? '',
      subjectClientId: subject.clientId ?? '',
    });
    // RFC 8693 §2.2.1.
    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: token.tokenType,
      expires_in: token.expiration,
      scope: token.scope,
    };
  }

  provider.registerGrantType<ExchangeParams>(TOKEN_EXCHANGE_GRANT, exchange, PARAMETERS, ['resource', 'audience']);
}
