import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { federationRedirectUri } from '../../../src/federation/federation.service.js';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { TEST_ACTOR, uniqueEmail } from '../../helpers/factories.js';
import { useTestServer } from '../../helpers/server.js';
import { errorCode } from '../../helpers/sessions.js';
import { startUpstreamOp, type AppleClientSecret, type UpstreamOp } from '../../helpers/upstream-op.js';
import { pressContinueWith, redeem, startFlow, throughUpstream } from '../../helpers/federated-sign-in.js';

const TEAM_ID = 'TEAM123456';
const KEY_ID = 'KEY1234567';
const CLIENT_ID = 'com.example.gatehouse';
const SIX_MONTHS_SECONDS = 15_777_000;

/**
 * Sign in with Apple over HTTP (issue 17): a real OpenID provider stands in for Apple
 * (the preset's `base_url`), answering by form_post, and its token endpoint verifies each
 * client secret as Apple does: an ES256 JWT signed with the team's key.
 */
describe.each(HTTP_BACKENDS)('Sign in with Apple (%s)', (backend) => {
  const server = useTestServer(backend);
  let op: UpstreamOp;
  let apple: AppleClientSecret;

  beforeAll(async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const registeredSecret = `registered-${randomBytes(8).toString('hex')}`;
    apple = {
      clientId: CLIENT_ID,
      teamId: TEAM_ID,
      keyId: KEY_ID,
      publicKey,
      registeredSecret,
      verified: [],
      refused: [],
    };
    op = await startUpstreamOp({
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: registeredSecret,
          token_endpoint_auth_method: 'client_secret_post',
          redirect_uris: [federationRedirectUri(server.issuer, 'apple')],
        },
      ],
      appleClient: apple,
    });
    await server.gatehouse.admin.connections.create(
      {
        id: 'apple',
        displayName: 'Apple',
        preset: 'apple',
        clientId: CLIENT_ID,
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        options: { teamId: TEAM_ID, keyId: KEY_ID, baseUrl: op.issuer },
        createAccounts: true,
        trustEmailVerification: true,
      },
      TEST_ACTOR,
    );
  });
  afterAll(async () => {
    await op?.close();
  });

  /** Apple's first-callback field: the person's name, which the ID token never carries. */
  const userField = (firstName: string, lastName: string) => JSON.stringify({ name: { firstName, lastName } });

  async function signInWithApple(user: string | undefined) {
    const flow = await startFlow(server);
    const toApple = await pressContinueWith(flow.ua, flow.page, 'apple');
    expect(toApple.status).toBe(303);
    const authorization = new URL(toApple.location ?? '');
    const { page } = await throughUpstream(server, flow, authorization.href, 'apple', {
      formPost: true,
      tamper: (params) => {
        if (user !== undefined) params.user = user;
      },
    });
    return { flow, page, toApple, authorization };
  }

  it('signs in by form_post with a verified ES256 client secret; the name comes from the first callback only', async () => {
    const subject = `001234.${randomBytes(6).toString('hex')}`;
    const email = uniqueEmail('apple');
    // Apple's ID token: subject, address and its verification; no name.
    op.setAccount(subject, { email, email_verified: true });
    op.login = { accountId: subject };
    const verifiedBefore = apple.verified.length;

    const first = await signInWithApple(userField('Ada', 'Lovelace'));
    expect(first.authorization.searchParams.get('response_mode')).toBe('form_post');
    expect(first.authorization.searchParams.get('scope')).toBe('openid name email');
    // The callback is a cross-site POST; on this plain-http (loopback) issuer the binding cookie
    // stays Lax (None needs Secure: https issuers), scoped to the callback's path.
    const binding = first.toApple.headers.getSetCookie().find((c) => c.startsWith('gh_fed='));
    expect(binding).toMatch(/path=\/federation\/apple\/callback/i);
    expect(binding).toMatch(/samesite=lax/i);
    expect(binding).toMatch(/httponly/i);

    const claims = (await redeem(first.flow, first.page)).claims();
    const user = await server.gatehouse.storage.storage.users.findByEmail(email);
    expect(user).toMatchObject({ name: 'Ada Lovelace', emailVerified: true });
    expect(claims).toMatchObject({ sub: user?.id, amr: ['fed'] });

    // The token endpoint saw Apple's kind of client secret and verified it.
    const secrets = apple.verified.slice(verifiedBefore);
    expect(secrets).toHaveLength(1);
    const [secret] = secrets;
    expect(secret?.header).toEqual({ alg: 'ES256', kid: KEY_ID });
    expect(secret?.claims).toMatchObject({ iss: TEAM_ID, sub: CLIENT_ID, aud: op.issuer });
    const lifetime = (secret?.claims.exp ?? 0) - (secret?.claims.iat ?? 0);
    expect(lifetime).toBeGreaterThan(0);
    expect(lifetime).toBeLessThanOrEqual(SIX_MONTHS_SECONDS);

    // A later callback's user field changes nothing: the same account, the same name.
    const again = await signInWithApple(userField('Eve', 'Other'));
    expect((await redeem(again.flow, again.page)).claims()?.sub).toBe(user?.id);
    expect((await server.gatehouse.storage.storage.users.findById(user?.id ?? ''))?.name).toBe('Ada Lovelace');
  });

  it('is refused by the upstream when the secret is signed under another key id, and makes no account', async () => {
    const subject = `001234.${randomBytes(6).toString('hex')}`;
    const email = uniqueEmail('apple-bad');
    op.setAccount(subject, { email, email_verified: true });
    op.login = { accountId: subject };
    await server.gatehouse.admin.connections.update(
      'apple',
      { options: { teamId: TEAM_ID, keyId: 'OTHERKEY99', baseUrl: op.issuer } },
      TEST_ACTOR,
    );
    try {
      const refusedBefore = apple.refused.length;
      const { page } = await signInWithApple(userField('Mal', 'Lory'));
      expect({ status: page.status, code: errorCode(page.html) }).toEqual({ status: 502, code: 'upstream_error' });
      expect(page.html).toContain('invalid_client');
      expect(apple.refused.slice(refusedBefore)).toEqual(['kid OTHERKEY99']);
      expect(await server.gatehouse.storage.storage.users.findByEmail(email)).toBeNull();
    } finally {
      await server.gatehouse.admin.connections.update(
        'apple',
        { options: { teamId: TEAM_ID, keyId: KEY_ID, baseUrl: op.issuer } },
        TEST_ACTOR,
      );
    }
  });
});
