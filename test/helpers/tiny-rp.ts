import { createServer, type Server } from 'node:http';
import * as oidc from 'openid-client';

/**
 * A tiny relying-party web app built on openid-client: /login starts code + PKCE,
 * /callback redeems the code and shows the ID token's claims as HTML.
 */
export interface TinyRp {
  origin: string;
  redirectUri: string;
  configure(issuer: string, clientId: string, clientSecret: string): Promise<void>;
  close(): Promise<void>;
}

const escape = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startTinyRp(): Promise<TinyRp> {
  let config: oidc.Configuration | undefined;
  const pending = new Map<string, { verifier: string; nonce: string }>();
  let origin = '';

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', origin);
      if (!config) throw new Error('not configured');
      if (url.pathname === '/login') {
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        const nonce = oidc.randomNonce();
        pending.set(state, { verifier, nonce });
        const target = oidc.buildAuthorizationUrl(config, {
          redirect_uri: `${origin}/callback`,
          scope: 'openid profile email',
          state,
          nonce,
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        });
        res.writeHead(302, { location: target.toString() }).end();
        return;
      }
      if (url.pathname === '/callback') {
        const state = url.searchParams.get('state') ?? '';
        const expected = pending.get(state);
        if (!expected) throw new Error('unknown state');
        pending.delete(state);
        const tokens = await oidc.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: expected.verifier,
          expectedState: state,
          expectedNonce: expected.nonce,
        });
        const claims: Record<string, unknown> = tokens.claims() ?? {};
        const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub));
        const rows = (attr: string, values: Record<string, unknown>) =>
          Object.entries(values)
            .map(
              ([k, v]) => `<tr><th>${escape(k)}</th><td ${attr}="${escape(k)}">${escape(JSON.stringify(v))}</td></tr>`,
            )
            .join('');
        res.writeHead(200, { 'content-type': 'text/html' })
          .end(`<!DOCTYPE html><title>Signed in</title><h1>Signed in</h1>
          <h2>ID token</h2><table>${rows('data-claim', claims)}</table><h2>UserInfo</h2><table>${rows('data-userinfo', userinfo)}</table>`);
        return;
      }
      res.writeHead(404).end();
    })().catch((error: unknown) => {
      res
        .writeHead(500, { 'content-type': 'text/plain' })
        .end(`RP error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    origin,
    redirectUri: `${origin}/callback`,
    async configure(issuer, clientId, clientSecret) {
      config = await oidc.discovery(new URL(issuer), clientId, undefined, oidc.ClientSecretBasic(clientSecret), {
        execute: [oidc.allowInsecureRequests],
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
