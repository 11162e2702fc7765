import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type ClientMetadata, type KoaContextWithOIDC } from 'oidc-provider';
import { exportJWK, generateKeyPair, jwtVerify, type JWTPayload, type KeyObject } from 'jose';

/**
 * A genuine OpenID provider standing in for an upstream (Google, Entra ID, GitLab, Apple):
 * oidc-provider on 127.0.0.1, separate from Gatehouse. It signs in whoever `login` names
 * without a page (the test sets the account's claims, amr and acr), skips consent, and can
 * refuse (`deny`: access_denied back to the client) or go silent (`slow`: requests are held
 * unanswered until close, for timeout tests without sleeps).
 */
export interface UpstreamOp {
  issuer: string;
  /** The person the next authorization signs in: their subject, the claims the OP knows, the amr and acr of the sign-in. */
  login: { accountId: string; amr?: string[]; acr?: string };
  setAccount(subject: string, claims: Record<string, unknown>): void;
  deny: boolean;
  slow: boolean;
  /** Requests held by slow mode so far. */
  held(): number;
  /** Sessions the OP ended at its end_session_endpoint ("yes"): whose, and the client's. */
  signedOut: Array<{ accountId: string | undefined; clientId: string | undefined }>;
  /** The id_token_hints its end_session_endpoint validated (signature, issuer, audience): their subject and audience. */
  validHints: Array<{ subject: unknown; clientId: string | undefined }>;
  close(): Promise<void>;
}

/**
 * Sign in with Apple's client authentication, which oidc-provider has no method for: the client
 * secret is an ES256 JWT the client signs (iss its team id, sub its client id, aud the issuer,
 * kid its key id, at most six months long), sent as `client_secret`. The token endpoint checks
 * each against the key's public half, as Apple does, and refuses a bad one (401 invalid_client);
 * a good one is swapped for the registered secret before the OP sees the request.
 */
export interface AppleClientSecret {
  clientId: string;
  teamId: string;
  keyId: string;
  publicKey: KeyObject;
  /** The secret the OP's client registration holds (client_secret_post). */
  registeredSecret: string;
  /** Every client-secret JWT verified so far: its header and claims. */
  verified: Array<{ header: { alg?: string; kid?: string }; claims: JWTPayload }>;
  /** Every one refused so far, and why. */
  refused: string[];
}

/** Apple's limit on a client secret's lifetime ("Creating a client secret"). */
const SIX_MONTHS_SECONDS = 15_777_000;

async function checkAppleSecret(apple: AppleClientSecret, issuer: string, secret: string): Promise<string | null> {
  try {
    const { payload, protectedHeader } = await jwtVerify(secret, apple.publicKey, {
      algorithms: ['ES256'],
      issuer: apple.teamId,
      subject: apple.clientId,
      audience: issuer,
      requiredClaims: ['iat', 'exp'],
    });
    if (protectedHeader.kid !== apple.keyId) return `kid ${String(protectedHeader.kid)}`;
    if ((payload.exp ?? 0) - (payload.iat ?? 0) > SIX_MONTHS_SECONDS) return 'valid longer than six months';
    apple.verified.push({ header: { alg: protectedHeader.alg, kid: protectedHeader.kid }, claims: payload });
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startUpstreamOp(options: {
  clients: ClientMetadata[];
  /** A path the issuer ends with (Entra ID's `/<tenant>/v2.0`). */
  path?: string;
  /** false: no end_session_endpoint (RP-Initiated Logout off), as Google and GitHub. */
  endSession?: boolean;
  /** Apple's client authentication: see AppleClientSecret. */
  appleClient?: AppleClientSecret;
}): Promise<UpstreamOp> {
  const accounts = new Map<string, Record<string, unknown>>();
  const held: ServerResponse[] = [];
  const path = options.path ?? '';
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(503).end();
  };
  const server = createServer((req, res) => {
    if (state.slow) {
      held.push(res);
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}${path}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const provider = new Provider(issuer, {
    clients: options.clients,
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'upstream-test', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: ['upstream-op-test-cookie-key'] },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, ...accounts.get(sub) }) }),
    claims: {
      amr: null,
      openid: ['sub', 'tid', 'hd', 'amr'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'picture'],
      groups: ['groups'],
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    // Claims in the ID token as well as at userinfo, as Apple (which has no userinfo) sends them.
    conformIdTokenClaims: false,
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Grant: 600, Interaction: 600, Session: 600 },
    acrValues: ['urn:upstream:pwd', 'urn:upstream:mfa'],
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: options.endSession ?? true } },
    interactions: { url: (_ctx, interaction) => `${path}/interaction/${interaction.uid}` },
    // Consent is not what these tests are about: every request gets a grant for what it asks.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const { client, session, params } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope(String(params?.scope ?? 'openid'));
      await grant.save();
      return grant;
    },
  });
  provider.on('server_error', (_ctx, error) => {
    console.error('upstream OP error', error);
  });

  const state = {
    issuer,
    login: { accountId: 'upstream-user' } as UpstreamOp['login'],
    setAccount: (subject: string, claims: Record<string, unknown>) => {
      accounts.set(subject, claims);
    },
    deny: false,
    slow: false,
    held: () => held.length,
    signedOut: [] as UpstreamOp['signedOut'],
    validHints: [] as UpstreamOp['validHints'],
    async close() {
      for (const res of held.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    state.signedOut.push({ accountId: ctx.oidc.session?.accountId, clientId: ctx.oidc.client?.clientId });
  });
  // The hint is validated by the question's request, before the page: its entity is there then.
  provider.use(async (ctx, next) => {
    await next();
    const oidc = (ctx as unknown as KoaContextWithOIDC).oidc as KoaContextWithOIDC['oidc'] | undefined;
    const hint = (oidc?.entities as { IdTokenHint?: { payload?: { sub?: unknown } } } | undefined)?.IdTokenHint;
    if (oidc?.route === 'end_session' && hint && ctx.status === 200)
      state.validHints.push({ subject: hint.payload?.sub, clientId: oidc.client?.clientId });
  });

  const callback = provider.callback();
  const interaction = new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/interaction/[^/?]+$`);
  handler = (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (req.method === 'GET' && interaction.test(url.pathname)) {
      const result = state.deny
        ? { error: 'access_denied', error_description: 'the person declined' }
        : { login: { accountId: state.login.accountId, amr: state.login.amr, acr: state.login.acr } };
      provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false }).catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
      return;
    }
    const apple = options.appleClient;
    if (apple && req.method === 'POST' && url.pathname === `${path}/token`) {
      void appleToken(apple, req, res);
      return;
    }
    // The provider's routes are under the issuer's path.
    if (path && req.url?.startsWith(path)) req.url = req.url.slice(path.length) || '/';
    void callback(req, res);
  };

  /** The token endpoint in front of the OP for the Apple-like client: verify, then swap in the registered secret. */
  async function appleToken(apple: AppleClientSecret, req: IncomingMessage, res: ServerResponse) {
    const body = new URLSearchParams(await readBody(req));
    if (body.get('client_id') === apple.clientId) {
      const problem = await checkAppleSecret(apple, issuer, body.get('client_secret') ?? '');
      if (problem) {
        apple.refused.push(problem);
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_client' }));
        return;
      }
      body.set('client_secret', apple.registeredSecret);
    }
    // The stream is read: oidc-provider takes an already-read body from req.body.
    (req as IncomingMessage & { body?: string }).body = body.toString();
    if (path && req.url?.startsWith(path)) req.url = req.url.slice(path.length) || '/';
    void callback(req, res);
  }
  return state;
}
