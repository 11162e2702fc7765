import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { discoverRp, oidc, redeemCode } from '../../helpers/rp.js';
import { OFFLINE, authorize, introspect, oauthFailure, postToken, refreshTokenOf } from '../../helpers/tokens.js';

describe.each(HTTP_BACKENDS)('authorization code single use (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  it('redeems a code once and the tokens from that redemption are live', async () => {
    const { rp, callbackUrl, request, user, client } = await authorize(server);
    const tokens = await redeemCode(rp, callbackUrl, request);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(await introspect(rp, tokens.access_token)).toMatchObject({
      active: true,
      sub: user.id,
      client_id: client.clientId,
    });
  });

  it('refuses a second redemption with invalid_grant and revokes what the first one issued (RFC 6749 §4.1.2)', async () => {
    const { rp, callbackUrl, request } = await authorize(server, { params: OFFLINE });
    const first = await redeemCode(rp, callbackUrl, request);
    const refreshToken = refreshTokenOf(first);
    expect(await introspect(rp, first.access_token)).toMatchObject({ active: true });

    expect(await oauthFailure(redeemCode(rp, callbackUrl, request))).toEqual({ status: 400, error: 'invalid_grant' });

    expect(await introspect(rp, first.access_token)).toEqual({ active: false });
    expect(await introspect(rp, refreshToken)).toEqual({ active: false });
    expect(await oauthFailure(oidc.refreshTokenGrant(rp, refreshToken))).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
  });

  it('refuses a code issued to another client with invalid_grant, and the owner can still redeem it', async () => {
    const { rp, callbackUrl, request, code, client } = await authorize(server);
    const thief = await server.buildClient();
    const thiefRp = await discoverRp(server.issuer, thief);
    const stolen = await postToken(thiefRp, thief, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      code_verifier: request.codeVerifier,
    });
    expect(stolen).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(stolen.body.access_token).toBeUndefined();

    const tokens = await redeemCode(rp, callbackUrl, request);
    expect(await introspect(rp, tokens.access_token)).toMatchObject({ active: true });
  });

  it('refuses a code whose redirect_uri differs from the one in the authorization request', async () => {
    const client = await server.buildClient({
      redirectUris: ['http://127.0.0.1:9999/callback', 'http://127.0.0.1:9999/other'],
    });
    const { rp, code, request } = await authorize(server, { client });
    const res = await postToken(rp, client, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://127.0.0.1:9999/other',
      code_verifier: request.codeVerifier,
    });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('refuses a code that was never issued with invalid_grant', async () => {
    const { rp, code, request, client } = await authorize(server);
    const res = await postToken(rp, client, {
      grant_type: 'authorization_code',
      code: `${code.slice(0, -2)}xx`,
      redirect_uri: client.redirectUri,
      code_verifier: request.codeVerifier,
    });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
});
