import { createRemoteJWKSet, jwtVerify } from 'jose';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { oidc } from '../../helpers/rp.js';
import { InvalidInputError } from '../../../src/errors/domain-errors.js';
import type { TestClient } from '../../helpers/factories.js';
import { OFFLINE, jwsHeader, refreshTokenOf, signIn } from '../../helpers/tokens.js';

/** An RP that insists on one ID token algorithm, as registered (OIDC Registration §2). */
function strictRp(issuer: string, client: TestClient, alg: string) {
  return oidc.discovery(
    new URL(issuer),
    client.clientId,
    { id_token_signed_response_alg: alg },
    oidc.ClientSecretBasic(client.clientSecret ?? ''),
    { execute: [oidc.allowInsecureRequests] },
  );
}

describe.each(HTTP_BACKENDS)('ID token signing algorithm (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  it('signs with RS256 for a client registered with idTokenAlg RS256, and openid-client validates it', async () => {
    const client = await server.buildClient({ idTokenAlg: 'RS256' });
    const rp = await strictRp(server.issuer, client, 'RS256');
    const { tokens, user, request } = await signIn(server, { client, rp });

    const header = jwsHeader(tokens.id_token);
    expect(header).toMatchObject({ alg: 'RS256', kid: expect.any(String) });
    expect(tokens.claims()).toMatchObject({
      sub: user.id,
      aud: client.clientId,
      iss: server.issuer,
      nonce: request.nonce,
    });

    // The key is the published RSA key, verified independently of openid-client.
    const jwksUri = rp.serverMetadata().jwks_uri ?? '';
    const published = (await (await fetch(jwksUri)).json()) as {
      keys: Array<{ kid?: string; kty?: string; d?: string }>;
    };
    const key = published.keys.find((k) => k.kid === header.kid);
    expect(key).toMatchObject({ kty: 'RSA' });
    expect(published.keys.every((k) => k.d === undefined)).toBe(true);
    const { payload } = await jwtVerify(tokens.id_token ?? '', createRemoteJWKSet(new URL(jwksUri)), {
      issuer: server.issuer,
      audience: client.clientId,
      algorithms: ['RS256'],
    });
    expect(payload.sub).toBe(user.id);
  });

  it('keeps RS256 for ID tokens issued on refresh', async () => {
    const client = await server.buildClient({ idTokenAlg: 'RS256' });
    const rp = await strictRp(server.issuer, client, 'RS256');
    const { tokens, user } = await signIn(server, { client, rp, params: OFFLINE });
    const refreshed = await oidc.refreshTokenGrant(rp, refreshTokenOf(tokens));
    expect(jwsHeader(refreshed.id_token)).toMatchObject({ alg: 'RS256' });
    expect(refreshed.claims()?.sub).toBe(user.id);
  });

  it('signs with ES256 by default, which an RP expecting RS256 rejects', async () => {
    const client = await server.buildClient();
    const rp = await strictRp(server.issuer, client, 'RS256');
    const failure = await signIn(server, { client, rp }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(oidc.ClientError);
    // openid-client checked the header against the registered alg and refused the ES256 token.
    expect((failure as oidc.ClientError).cause).toMatchObject({
      message: 'unexpected JWT "alg" header parameter',
      cause: { header: { alg: 'ES256' }, expected: 'RS256' },
    });
  });

  it('refuses to register a client with an algorithm Gatehouse does not sign with', async () => {
    for (const idTokenAlg of ['HS256', 'none', 'PS256']) {
      await expect(server.buildClient({ idTokenAlg })).rejects.toBeInstanceOf(InvalidInputError);
    }
  });
});
