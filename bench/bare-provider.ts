/**
 * The comparison server: oidc-provider 9 as its README shows it, with the library's
 * in-memory adapter, the benchmark's clients given statically, PKCE required,
 * client_credentials on, and a tiny sign-in route of our own. No password hashing, no
 * persistence, no CSRF check, no audit: the floor that Gatehouse's figures are read against.
 *
 * Started by bench/run.ts as `node --import tsx bench/bare-provider.ts` with
 * BENCH_BARE_CONFIG (JSON, see BareConfig) in its environment; prints "ready" when listening.
 */
import { randomBytes } from 'node:crypto';
import Koa, { type Context, type Next } from 'koa';
import mount from 'koa-mount';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type ClientMetadata, type Grant, type JWK, type KoaContextWithOIDC } from 'oidc-provider';

export interface BareConfig {
  issuer: string;
  port: number;
  user: { id: string; email: string; password: string; name: string };
  clients: ClientMetadata[];
}

const config = JSON.parse(process.env.BENCH_BARE_CONFIG ?? 'null') as BareConfig | null;
if (!config) {
  process.stderr.write('bare-provider: BENCH_BARE_CONFIG is not set\n');
  process.exit(2);
}
const { user } = config;

/** The same key algorithms Gatehouse publishes: ES256 (default) and RS256. */
async function signingKeys(): Promise<JWK[]> {
  return Promise.all(
    (['ES256', 'RS256'] as const).map(async (alg) => {
      const { privateKey } = await generateKeyPair(alg, { extractable: true });
      return { ...(await exportJWK(privateKey)), alg, use: 'sig', kid: alg.toLowerCase() } as JWK;
    }),
  );
}

/** Skip the consent page for the benchmark client, as Gatehouse does for first-party clients. */
async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const { client, session, provider } = ctx.oidc;
  const accountId = session?.accountId;
  if (!client || !accountId) return undefined;
  const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
  const grant =
    (grantId ? await provider.Grant.find(grantId) : undefined) ??
    new provider.Grant({ accountId, clientId: client.clientId });
  grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
  await grant.save();
  return grant;
}

const cookieKeys = [randomBytes(32).toString('base64url')];
const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: { keys: await signingKeys() },
  cookies: { keys: cookieKeys },
  async findAccount(_ctx, sub) {
    if (sub !== user.id) return undefined;
    return {
      accountId: sub,
      claims: () => ({ sub, email: user.email, email_verified: false, name: user.name }),
    };
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  loadExistingGrant,
  responseTypes: ['code'],
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  clientDefaults: {
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
    require_auth_time: true,
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // As Gatehouse: a client introspects only the tokens issued to it.
    introspection: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
    userinfo: { enabled: true },
    // As bench/gatehouse-bench.yaml: one API whose access tokens are ES256 JWTs (RFC 9068).
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => false,
      getResourceServerInfo: (_ctx, indicator) => ({
        scope: 'bench:read',
        audience: indicator,
        accessTokenTTL: 600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  rotateRefreshToken: true,
  // Gatehouse's default lifetimes (config/default.yaml).
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 60,
    ClientCredentials: 600,
    IdToken: 3600,
    Interaction: 3600,
    Session: 1209600,
    Grant: 1209600,
    RefreshToken: 1209600,
  },
});

const escape = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(ctx: Context): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024) ctx.throw(413);
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** GET /interaction/:uid shows the login form or grants consent; POST .../login signs in. */
async function interactions(ctx: Context, next: Next): Promise<void> {
  const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(ctx.path);
  if (!match) return next();
  ctx.set('cache-control', 'no-store');
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== match[1]) ctx.throw(400, 'interaction mismatch');

  if (ctx.method === 'GET' && !match[2]) {
    if (details.prompt.name === 'consent') {
      const { Grant } = provider;
      const accountId = details.session?.accountId;
      if (!accountId) ctx.throw(400, 'no session');
      const grant =
        (details.grantId ? await Grant.find(details.grantId) : undefined) ??
        new Grant({ accountId, clientId: String(details.params.client_id) });
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      await provider.interactionFinished(
        ctx.req,
        ctx.res,
        { consent: { grantId: await grant.save() } },
        { mergeWithLastSubmission: true },
      );
      ctx.respond = false;
      return;
    }
    ctx.type = 'html';
    ctx.body =
      `<!doctype html><title>Sign in</title><form method="post" action="/interaction/${escape(details.uid)}/login">` +
      '<input type="hidden" name="csrf" value="none"><input name="email"><input name="password" type="password">' +
      '<button>Sign in</button></form>';
    return;
  }

  if (ctx.method === 'POST' && match[2]) {
    const form = await readForm(ctx);
    if (form.get('email') !== user.email || form.get('password') !== user.password) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = 'The email address or password is not correct.';
      return;
    }
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: user.id } },
      { mergeWithLastSubmission: false },
    );
    ctx.respond = false;
    return;
  }
  ctx.throw(405);
}

const app = new Koa();
app.keys = cookieKeys;
app.silent = true;
app.use(interactions);
app.use(mount(provider));
const server = app.listen(config.port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
