import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { UserAgent, runAuthorization } from '../../helpers/user-agent.js';
import { buildAuthRequest, discoverRp, oidc, redeemCode } from '../../helpers/rp.js';

describe.each(HTTP_BACKENDS)('authorization code + PKCE (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  it('signs in through the login page and returns verified tokens with the standard claims', async () => {
    const user = await server.buildUser({ name: 'Ada Lovelace' });
    const client = await server.buildClient();
    const rp = await discoverRp(server.issuer, client);
    const request = await buildAuthRequest(rp, client.redirectUri);
    const ua = new UserAgent(server.issuer);

    const trace = await runAuthorization(ua, request.url, client.redirectUri, {
      email: user.email,
      password: user.password,
    });
    expect(trace.pages).toEqual(['login']);
    expect(trace.postStatuses).toEqual([303]);
    const callback = new URL(trace.callbackUrl);
    expect(callback.searchParams.get('iss')).toBe(server.issuer);
    expect(callback.searchParams.get('state')).toBe(request.state);

    const tokens = await redeemCode(rp, trace.callbackUrl, request);
    const claims = tokens.claims();
    expect(claims).toMatchObject({
      sub: user.id,
      iss: server.issuer,
      aud: client.clientId,
      nonce: request.nonce,
      acr: 'urn:gatehouse:acr:pwd',
      amr: ['pwd'],
    });
    expect(typeof claims?.auth_time).toBe('number');
    expect(typeof claims?.sid).toBe('string');
    const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString());
    expect(header.alg).toBe('ES256');
    // The client may use the refresh_token grant: a session-bound refresh token comes with the code (issue 15 §3).
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const info = await oidc.fetchUserInfo(rp, tokens.access_token, user.id);
    expect(info).toMatchObject({ sub: user.id, email: user.email, email_verified: false, name: 'Ada Lovelace' });
  });
});
