import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer, type TestServer } from '../../helpers/server.js';
import { cli, json } from '../../helpers/cli.js';
import { UserAgent, runAuthorization } from '../../helpers/user-agent.js';
import { buildAuthRequest, discoverRp, redeemCode } from '../../helpers/rp.js';

describe.each(HTTP_BACKENDS)('signing key rotation (%s)', (backend) => {
  const server = useTestServer(backend);

  async function idToken(
    ua: UserAgent,
    email: string,
    password: string,
    client: Awaited<ReturnType<TestServer['buildClient']>>,
  ) {
    const rp = await discoverRp(server.issuer, client);
    const request = await buildAuthRequest(rp, client.redirectUri);
    const trace = await runAuthorization(ua, request.url, client.redirectUri, { email, password });
    return { token: (await redeemCode(rp, trace.callbackUrl, request)).id_token!, pages: trace.pages };
  }

  it('publishes new keys, signs with them, keeps old ones for verification, and keeps sessions', async () => {
    const user = await server.buildUser();
    const client = await server.buildClient();
    const ua = new UserAgent(server.issuer);
    const { token: before } = await idToken(ua, user.email, user.password, client);
    const oldKid = decodeProtectedHeader(before).kid;

    const rotated = await cli(server, 'keys', 'rotate', '--json');
    expect(rotated.code).toBe(0);
    const { active } = json<{ active: string[] }>(rotated);
    expect(active).toHaveLength(2);
    expect(active).not.toContain(oldKid);
    // servers poll the key set; trigger that poll now instead of waiting for the interval
    expect(await server.gatehouse.host.reloadKeys()).toBe(true);
    expect(await server.gatehouse.host.reloadKeys()).toBe(false);

    const jwks = (await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    const kids = jwks.keys.map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([...active, oldKid]));

    // the browser session survives the cookie-key rotation: no login page the second time
    const { token: after, pages } = await idToken(ua, user.email, user.password, client);
    expect(pages).toEqual([]);
    expect(active).toContain(decodeProtectedHeader(after).kid);

    const keySet = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    await expect(
      jwtVerify(before, keySet, { issuer: server.issuer, audience: client.clientId }),
    ).resolves.toBeDefined();
    await expect(jwtVerify(after, keySet, { issuer: server.issuer, audience: client.clientId })).resolves.toBeDefined();

    const listed = json<Array<{ kid: string; state: string }>>(await cli(server, 'keys', 'list', '--json'));
    expect(listed.find((k) => k.kid === oldKid)?.state).toBe('retired');
  });
});
