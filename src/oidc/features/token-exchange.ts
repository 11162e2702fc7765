import { createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
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
  /** A user's live grants (storage/sessions.repository.ts listGrants), for JWT subject tokens. */
  grantsOf: GrantsOf;
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

/** A presented subject token, checked: whose it is, for whom, and the grant it hangs on. */
interface SubjectToken {
  accountId: string;
  clientId: string;
  audiences: string[];
  grantId: string;
  senderConstrained: boolean;
  act?: unknown;
  sessionUid?: string;
  expiresWithSession?: boolean;
  sid?: string;
}

type GrantsOf = (accountId: string) => Promise<Array<{ id: string; clientId: string; createdAt: Date }>>;

/**
 * An opaque token is found in storage, which knows it is expired or revoked. A JWT (the tokens
 * of resources, RFC 9068) is stateless: oidc-provider does not store it. It is verified with
 * the provider's own keys (signature, issuer, typ, exp), and then the user must still hold a
 * grant of the token's client made no later than the token: a grant an admin or the user
 * revoked, or a session-bound grant whose session ended, takes the token's exchange with it.
 */
async function findSubjectToken(
  provider: Provider,
  value: string,
  verify: (jwt: string) => Promise<JWTPayload | undefined>,
  grantsOf: GrantsOf,
): Promise<SubjectToken | undefined> {
  if (value.split('.').length !== 3) {
    const stored = await provider.AccessToken.find(value);
    if (!stored || stored.isExpired || !stored.accountId || !stored.grantId || !stored.clientId) return undefined;
    if (!(await provider.Grant.find(stored.grantId))) return undefined;
    return {
      accountId: stored.accountId,
      clientId: stored.clientId,
      audiences: [stored.aud ?? []].flat(),
      grantId: stored.grantId,
      senderConstrained: stored.isSenderConstrained(),
      act: (stored.extra as Record<string, unknown> | undefined)?.act,
      ...(stored.sessionUid ? { sessionUid: stored.sessionUid } : {}),
      ...(stored.expiresWithSession ? { expiresWithSession: stored.expiresWithSession } : {}),
      ...(stored.sid ? { sid: stored.sid } : {}),
    };
  }
  const payload = await verify(value);
  const { sub, client_id: clientId, iat } = payload ?? {};
  if (!payload || typeof sub !== 'string' || typeof clientId !== 'string' || typeof iat !== 'number') return undefined;
  // A client's own machine token (client_credentials) has sub = client_id and no user.
  if (sub === clientId) return undefined;
  const grant = (await grantsOf(sub))
    .filter((g) => g.clientId === clientId && g.createdAt.getTime() <= (iat + 1) * 1000)
    .at(-1);
  if (!grant) return undefined;
  return {
    accountId: sub,
    clientId,
    audiences: [payload.aud ?? []].flat(),
    grantId: grant.id,
    senderConstrained: payload.cnf !== undefined,
    act: payload.act,
  };
}

export function registerTokenExchange(provider: Provider, deps: TokenExchangeDeps): void {
  const keys = createLocalJWKSet({ keys: deps.signingJwks.map(publicJwk) });
  const verify = async (jwt: string): Promise<JWTPayload | undefined> => {
    try {
      return (await jwtVerify(jwt, keys, { issuer: deps.issuer, typ: 'at+jwt' })).payload;
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

    const subject = await findSubjectToken(provider, subjectToken, verify, deps.grantsOf);
    if (!subject) throw new errors.InvalidGrant('subject token is invalid, expired or revoked');
    // A sender-constrained token is useless without its key, and the exchanging client has not got it.
    if (subject.senderConstrained)
      throw new errors.InvalidGrant('a sender-constrained subject token cannot be exchanged');
    // Whose tokens the client may present: its own, or those aimed at an API this client is.
    const own = subject.clientId === client.clientId;
    if (!own && !subject.audiences.some((aud) => policy.subjectAudiences.includes(aud)))
      throw new errors.InvalidGrant('subject token was not issued to this client or for an audience it serves');

    // What the user's roles grant on the target, now, and what was asked: the intersection.
    const granted = await deps.lookup.userPermissionNames(subject.accountId, resource.id);
    const asked = [...new Set(scope.split(' ').filter(Boolean))];
    const scopes = asked.filter((s) => granted.includes(s));
    if (scopes.length === 0) throw new errors.InvalidScope('the user holds none of the requested permissions', scope);

    // §4.1: a token exchanged again keeps the earlier actor nested under the current one.
    actors.set(ctx, { sub: client.clientId, ...(subject.act ? { act: subject.act } : {}) });

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
      subjectClientId: subject.clientId,
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
