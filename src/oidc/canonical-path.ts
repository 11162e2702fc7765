import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';

/**
 * oidc-provider's router (lib/helpers/router.js) matches a path case-insensitively, takes one
 * trailing slash off when nothing matched, and percent-decodes the value of a `/:param`
 * segment. The guards we put in front of it (client-secret hashing, pending clients, the token
 * rate limit and transaction, the registration response filter) compare `ctx.path` with the
 * endpoint's path, so `/TOKEN` or `/token/` reached the provider with no guard run.
 *
 * The root fix is one canonical spelling: before anything else runs, a path the provider's
 * router would route to one of its endpoints is rewritten to that endpoint's own spelling, so
 * every later middleware and the provider see the same path. Any other spelling (`//token`,
 * `/%74oken`, `/token;x`, `/./token`) matches no route of the provider's either and ends as a 404.
 */

/** A provider route: its literal segments as declared, null where a `/:param` segment is. */
interface Route {
  readonly segments: ReadonlyArray<string | null>;
}

export interface ProviderRouteTable {
  /** Parameterless routes by their case-folded path, each to its declared spelling. */
  readonly fixed: ReadonlyMap<string, string>;
  readonly parameterised: readonly Route[];
}

/**
 * The provider's case folding: upper case, except where a non-ASCII character would become an
 * ASCII one (U+017F 'ſ' → 'S', U+0131 'ı' → 'I'), which the provider keeps as it is so
 * that no such character spells an ASCII route.
 */
function foldCase(value: string): string {
  if (!/[^\x00-\x7f]/.test(value)) return value.toUpperCase();
  let folded = '';
  for (const char of value) {
    const upper = char.toUpperCase();
    const keepsRange = (char.codePointAt(0) ?? 0) < 128 || (upper.codePointAt(0) ?? 0) >= 128;
    folded += upper.length === 1 && keepsRange ? upper : char;
  }
  return folded;
}

/**
 * Every endpoint name the provider's router can register (lib/helpers/initialize_app.js);
 * names of features that are off are not registered, and pathFor throws for them.
 */
const ENDPOINT_NAMES = [
  'authorization',
  'resume',
  'userinfo',
  'token',
  'jwks',
  'discovery',
  'registration',
  'client',
  'client_update',
  'revocation',
  'introspection',
  'end_session',
  'end_session_confirm',
  'end_session_success',
  'device_authorization',
  'code_verification',
  'device_resume',
  'pushed_authorization_request',
  'backchannel_authentication',
  'challenge',
  'credential',
  'openid_credential_issuer',
] as const;

/** The router keeps one path per name; 'discovery' is registered under both of these. */
const WELL_KNOWN_PATHS = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];

/** Stands for every route parameter when the provider spells a route (no real segment is this). */
const PARAMETER = '\u0000gatehouse-parameter';
const ENCODED_PARAMETER = encodeURIComponent(PARAMETER);

/** The provider's own routes, read from the provider through pathFor so that our configuration of `routes` is followed. */
export function providerRouteTable(provider: Provider): ProviderRouteTable {
  const paths = new Set(WELL_KNOWN_PATHS);
  for (const name of ENDPOINT_NAMES) {
    try {
      paths.add(provider.pathFor(name, { mountPath: '', uid: PARAMETER, clientId: PARAMETER }));
    } catch {
      // not registered: the feature is off
    }
  }
  const fixed = new Map<string, string>();
  const parameterised: Route[] = [];
  for (const path of paths) {
    if (!path.includes(ENCODED_PARAMETER)) fixed.set(foldCase(path), path);
    else
      parameterised.push({
        segments: path.split('/').map((segment) => (segment === ENCODED_PARAMETER ? null : segment)),
      });
  }
  return { fixed, parameterised };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // the provider keeps a malformed one as it is
  }
}

function canonicalOf(path: string, table: ProviderRouteTable): string | undefined {
  const folded = foldCase(path);
  const fixed = table.fixed.get(folded);
  if (fixed !== undefined) return fixed;
  const parts = path.split('/');
  const foldedParts = folded.split('/');
  for (const route of table.parameterised) {
    if (route.segments.length !== parts.length) continue;
    const spelled: string[] = [];
    const matched = route.segments.every((segment, i) => {
      const part = parts[i] ?? '';
      if (segment === null) {
        // The provider hands the decoded value on; re-encoding it gives every spelling of one
        // value one spelling, which decodes to that same value.
        spelled.push(encodeURIComponent(decodeSegment(part)));
        return part !== '';
      }
      spelled.push(segment);
      return foldCase(segment) === foldedParts[i];
    });
    if (matched) return spelled.join('/');
  }
  return undefined;
}

/** The endpoint's own spelling of `path` when the provider's router routes it, else undefined. */
export function canonicalProviderPath(path: string, table: ProviderRouteTable): string | undefined {
  const exact = canonicalOf(path, table);
  if (exact !== undefined || path.length < 2 || !path.endsWith('/')) return exact;
  return canonicalOf(path.slice(0, -1), table);
}

/**
 * First middleware of the app: a request for a provider endpoint carries that endpoint's own
 * spelling from here on. `ctx.originalUrl` keeps what the client sent.
 */
export function canonicalizeProviderPaths(table: ProviderRouteTable) {
  return async function canonicalizeProviderPathsMiddleware(ctx: Context, next: Next): Promise<void> {
    const path = ctx.path;
    // Most requests already use the canonical spelling of a parameterless endpoint.
    if (table.fixed.get(path.toUpperCase()) !== path) {
      const canonical = canonicalProviderPath(path, table);
      if (canonical !== undefined && canonical !== path) ctx.path = canonical;
    }
    await next();
  };
}
