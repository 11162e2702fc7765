import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/schema.js';

type ResourceIndicators = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;

/** JWT access tokens are signed with the same ES256 key as ID tokens and published at /jwks. */
const ACCESS_TOKEN_ALG = 'ES256';

/**
 * Resource indicators (RFC 8707) from `resources` in config. A listed API gets a JWT access
 * token (RFC 9068, typ at+jwt) with its audience, scopes and TTL; anything else is
 * invalid_target (RFC 8707 §2).
 */
export function buildResourceIndicators(resources: Config['resources']): ResourceIndicators {
  const byIndicator = new Map(resources.map((r) => [r.indicator, r]));
  return {
    enabled: true,
    /**
     * No resource was named: the token is the opaque one for userinfo. Several granted and none
     * named at the token endpoint: the client has to pick one (RFC 8707 §2.2), so they go back
     * as a list and oidc-provider answers invalid_target.
     */
    async defaultResource(_ctx: KoaContextWithOIDC, _client, oneOf?: readonly string[]) {
      return oneOf ?? undefined;
    },
    /**
     * A resource named at authorization is not used at the token endpoint unless named again
     * (the library's default): an OpenID client keeps a userinfo access token, and asks for the
     * API's JWT with `resource=` on the code or refresh_token request.
     */
    async useGrantedResource() {
      return false;
    },
    async getResourceServerInfo(_ctx: KoaContextWithOIDC, indicator: string) {
      const resource = byIndicator.get(indicator);
      if (!resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
      return {
        scope: resource.scopes.join(' '),
        audience: resource.audience ?? resource.indicator,
        accessTokenTTL: resource.accessTokenTtl,
        accessTokenFormat: resource.format,
        jwt: { sign: { alg: ACCESS_TOKEN_ALG } },
      };
    },
  };
}
