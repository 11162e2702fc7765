import { createHash, randomBytes } from 'node:crypto';
import {
  Browser,
  OperationError,
  basicAuth,
  getDocument,
  introspect,
  tokenRequest,
  userinfoRequest,
  type Response,
  type TokenResponse,
} from './http.js';

/** What the load generator needs to know about a running server; both servers provide it. */
export interface BenchTarget {
  issuer: string;
  tokenEndpoint: string;
  authorizationEndpoint: string;
  jwksUri: string;
  introspectionEndpoint: string;
  userinfoEndpoint: string;
  user: { email: string; password: string };
  /** Confidential client allowed only client_credentials. */
  machineClient: { clientId: string; clientSecret: string };
  /** Confidential first-party web client: authorization_code + refresh_token. */
  webClient: { clientId: string; clientSecret: string; redirectUri: string };
  /** Gatehouse only, once bench/bench-upstream.ts runs: the connection `federated_sign_in` uses. */
  federation?: { connectionId: string; upstreamIssuer: string };
}

const b64url = (bytes: Buffer) => bytes.toString('base64url');

/** One client_credentials grant (RFC 6749 §4.4), client_secret_basic. */
export async function clientCredentials(target: BenchTarget): Promise<void> {
  const { clientId, clientSecret } = target.machineClient;
  await tokenRequest(target.tokenEndpoint, basicAuth(clientId, clientSecret), { grant_type: 'client_credentials' });
}

/** The API the benchmark names with `resource=` (bench/gatehouse-bench.yaml, bare-provider.ts). */
export const BENCH_RESOURCE = 'https://api.bench.example';

/**
 * client_credentials for an API named by a resource indicator (RFC 8707): the access token is
 * a signed JWT (RFC 9068), which the server signs and does not store.
 */
export async function clientCredentialsJwt(target: BenchTarget): Promise<void> {
  const { clientId, clientSecret } = target.machineClient;
  const { access_token: token } = await tokenRequest(target.tokenEndpoint, basicAuth(clientId, clientSecret), {
    grant_type: 'client_credentials',
    resource: BENCH_RESOURCE,
  });
  if (token?.split('.').length !== 3)
    throw new OperationError('client_credentials with a resource did not return a JWT');
}

/** What every relying party fetches first (OIDC Discovery §4), without a cached copy. */
export async function discovery(target: BenchTarget): Promise<void> {
  await getDocument(`${target.issuer}/.well-known/openid-configuration`);
}

/** The key set a relying party fetches to verify ID tokens (RFC 7517 §5), without a cached copy. */
export async function jwks(target: BenchTarget): Promise<void> {
  await getDocument(target.jwksUri);
}

const LOGIN_FORM = /<form[^>]*action="([^"]*\/login)"/;
const CSRF_FIELD = /name="csrf" value="([^"]*)"/;
const MAX_STEPS = 10;

/**
 * One complete browser sign-in with a fresh cookie jar: GET /auth, follow redirects to the
 * interaction, POST email + password (+ csrf) to the login form, follow redirects back to
 * the redirect URI, then redeem the code with its PKCE verifier (RFC 7636 §4.5).
 */
export function authorizationCodeFlow(target: BenchTarget, extra: Record<string, string> = {}): Promise<TokenResponse> {
  return codeFlow(target, extra, (browser, action, page) =>
    browser.request(action, {
      csrf: CSRF_FIELD.exec(page)?.[1] ?? '',
      email: target.user.email,
      password: target.user.password,
    }),
  );
}

/**
 * One complete sign-in through an upstream identity provider (issue 17) with fresh cookie jars:
 * as authorizationCodeFlow, but the sign-in page's "Continue with …" button instead of the
 * password: its POST, the upstream's authorization (another process: bench/bench-upstream.ts,
 * which signs its one person in without a page), Gatehouse's callback (code exchange with the
 * upstream, ID token validation, the linked identity), back to the interaction and on to the
 * redirect URI; then the code is redeemed. The upstream's own work is in its process.
 */
export function federatedSignIn(target: BenchTarget): Promise<TokenResponse> {
  const federation = target.federation;
  if (!federation) throw new OperationError('no upstream connection on this server');
  return codeFlow(target, {}, async (browser, _action, page) => {
    const start = new RegExp(`<form[^>]*action="([^"]*/federation/start/${federation.connectionId})"`).exec(page)?.[1];
    if (!start) throw new OperationError('no upstream button on the sign-in page');
    let res = await browser.request(start, { csrf: CSRF_FIELD.exec(page)?.[1] ?? '' });
    const upstream = new Browser(federation.upstreamIssuer);
    for (let step = 0; step < MAX_STEPS && res.location?.startsWith(federation.upstreamIssuer); step++) {
      res = await upstream.request(res.location);
    }
    if (!res.location?.startsWith(target.issuer))
      throw new OperationError(`the upstream stopped at ${res.status}: ${res.body.slice(0, 160)}`);
    // Gatehouse's callback, with this browser's cookies.
    return browser.request(res.location);
  });
}

async function codeFlow(
  target: BenchTarget,
  extra: Record<string, string>,
  signIn: (browser: Browser, loginAction: string, page: string) => Promise<Response>,
): Promise<TokenResponse> {
  const { clientId, clientSecret, redirectUri } = target.webClient;
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const auth = new URL(target.authorizationEndpoint);
  auth.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    state,
    nonce: b64url(randomBytes(16)),
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();

  const browser = new Browser(target.issuer);
  let res = await browser.request(auth.toString());
  let signedIn = false;
  let callback: URL | undefined;
  for (let step = 0; step < MAX_STEPS && !callback; step++) {
    if (res.location?.startsWith(redirectUri)) {
      callback = new URL(res.location);
    } else if (res.location) {
      res = await browser.request(res.location);
    } else {
      const action = LOGIN_FORM.exec(res.body)?.[1];
      if (res.status !== 200 || !action || signedIn) {
        throw new OperationError(
          `flow stopped at ${res.status}: ${res.body
            .replace(/<[^>]+>/g, ' ')
            .replace(/\s+/g, ' ')
            .slice(0, 160)}`,
        );
      }
      signedIn = true;
      res = await signIn(browser, action, res.body);
    }
  }
  if (!callback) throw new OperationError('flow did not reach the redirect URI');
  const code = callback.searchParams.get('code');
  if (!code || callback.searchParams.get('state') !== state) {
    throw new OperationError(
      `callback without code: ${callback.searchParams.get('error') ?? ''} ${callback.searchParams.get('error_description') ?? ''}`,
    );
  }
  const tokens = await tokenRequest(target.tokenEndpoint, basicAuth(clientId, clientSecret), {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
  });
  if (!tokens.id_token) throw new OperationError('token response without id_token');
  return tokens;
}

/** A refresh token chain owned by one worker: every use rotates it (RFC 9700 §4.14.2). */
export class RefreshChain {
  /** Successful rotations so far. */
  rotations = 0;

  private constructor(
    private readonly target: BenchTarget,
    private token: string,
  ) {}

  /** offline_access is granted only with prompt=consent (OIDC Core §11). */
  static async start(target: BenchTarget): Promise<RefreshChain> {
    const tokens = await authorizationCodeFlow(target, { scope: 'openid offline_access', prompt: 'consent' });
    if (!tokens.refresh_token)
      throw new OperationError('no refresh token issued for openid offline_access + prompt=consent');
    return new RefreshChain(target, tokens.refresh_token);
  }

  async refresh(): Promise<void> {
    const { clientId, clientSecret } = this.target.webClient;
    const tokens = await tokenRequest(this.target.tokenEndpoint, basicAuth(clientId, clientSecret), {
      grant_type: 'refresh_token',
      refresh_token: this.token,
    });
    if (!tokens.refresh_token) throw new OperationError('refresh grant did not rotate the refresh token');
    this.token = tokens.refresh_token;
    this.rotations++;
  }
}

/**
 * Refresh workers: worker i owns chains i, i+n, i+2n, ... and rotates them in turn, so no
 * chain is ever used by two workers at once (that would be refresh token reuse).
 * Several chains per worker keep each chain short: oidc-provider's memory adapter does
 * bookkeeping per save that grows with the tokens of the grant, and it is an LRU of 1,000
 * entries that drops a token not touched for about 1,000 writes, so every chain must also
 * come round often (see docs/benchmarks.md).
 */
export function refreshWorkers(chains: RefreshChain[], concurrency: number): Array<() => Promise<void>> {
  return Array.from({ length: concurrency }, (_, worker) => {
    const own = chains.filter((_, i) => i % concurrency === worker);
    let turn = 0;
    return async () => {
      const chain = own[turn++ % own.length];
      if (!chain) throw new OperationError('no refresh chain for this worker');
      await chain.refresh();
    };
  });
}

/**
 * The access tokens the introspection and userinfo workers present, one per worker, each from
 * a sign-in of its own: opaque (no resource indicator), so both endpoints look them up in the
 * store (a JWT access token would not need the store at all).
 */
export async function accessTokens(target: BenchTarget, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const { access_token: token } = await authorizationCodeFlow(target);
    if (!token) throw new OperationError('token response without access_token');
    tokens.push(token);
  }
  return tokens;
}

/** RFC 7662 introspection of a token the client was issued, with token_type_hint; it must be active. */
export async function introspection(target: BenchTarget, token: string): Promise<void> {
  const { clientId, clientSecret } = target.webClient;
  await introspect(target.introspectionEndpoint, basicAuth(clientId, clientSecret), token);
}

/** OIDC Core §5.3 userinfo with the access token as a Bearer header (RFC 6750 §2.1). */
export async function userinfo(target: BenchTarget, token: string): Promise<void> {
  await userinfoRequest(target.userinfoEndpoint, token);
}
