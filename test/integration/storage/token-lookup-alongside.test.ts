import { randomBytes } from 'node:crypto';
// oidc-provider's own request store: what Provider.ctx reads inside a provider request.
import als from 'oidc-provider/lib/helpers/als.js';
import { BACKENDS } from '../../helpers/backends.js';
import { openTestStorage } from '../../helpers/storage.js';
import { createAdapter } from '../../../src/oidc/adapter.js';
import { createClientRegistry } from '../../../src/oidc/client-registry.js';
import { createRequestClientReads } from '../../../src/oidc/request-client-reads.js';
import { createRequestUserReads } from '../../../src/oidc/request-user-reads.js';
import { tokenLookupAlongside } from '../../../src/oidc/token-lookup-alongside.js';
import { isActiveUser } from '../../../src/accounts/account-service.js';

const id = () => randomBytes(12).toString('base64url');
/** Runs `work` as if inside one provider request on `route`. */
const inRequest = <T>(route: string, work: () => Promise<T>): Promise<T> => als.run({ oidc: { route } }, work);

/**
 * The lookup of a token shown at userinfo also reads the token's client and account, and the
 * token endpoint's the account: the rows equal what their own reads give, and the request's
 * next reads of them need no statement. Other routes, other requests and odd payloads read as
 * before.
 */
describe.each(BACKENDS)('rows read along with a token (%s)', (backend) => {
  let opened: Awaited<ReturnType<typeof openTestStorage>>;
  let clientId: string;
  let userId: string;
  let clientStatements = 0;
  let userStatements = 0;
  beforeAll(async () => {
    opened = await openTestStorage(backend);
    const { client } = await createClientRegistry(opened.storage.clients).register({
      name: 'alongside', redirectUris: ['https://rp.example.test/cb'], postLogoutRedirectUris: [], public: false, firstParty: true,
      grantTypes: ['authorization_code', 'refresh_token'], scope: 'openid email',
    });
    clientId = client.id;
    const user = await opened.storage.users.create({ email: `${id()}@example.test`, name: 'Ada', emailVerified: true, passwordHash: null, totpSecretEncrypted: null });
    userId = user.id;
  });
  afterAll(async () => { await opened?.dispose(); });

  function server() {
    const clientReads = createRequestClientReads({ find: (cid) => { clientStatements++; return opened.storage.clients.find(cid); } });
    const userReads = createRequestUserReads(async (uid) => {
      userStatements++;
      const user = await opened.storage.users.findById(uid);
      return user && isActiveUser(user) ? user : undefined;
    }, isActiveUser);
    const adapterFor = createAdapter({ oidc: opened.storage.oidc, clients: clientReads, alongside: tokenLookupAlongside(clientReads, userReads) });
    return { clientReads, userReads, adapterFor };
  }

  async function accessToken(payload: Record<string, unknown> = {}) {
    const token = id();
    await opened.storage.oidc.upsert({
      model: 'AccessToken', id: token, expiresInSeconds: 600,
      payload: { jti: token, kind: 'AccessToken', clientId, accountId: userId, grantId: id(), ...payload },
    });
    clientStatements = 0;
    userStatements = 0;
    return token;
  }

  it('brings rows equal to their own reads', async () => {
    const token = await accessToken();
    const found = await opened.storage.oidc.findAmongWithRelated(['AccessToken'], token, { client: true, user: true });
    expect(found.found.get('AccessToken')).toMatchObject({ jti: token });
    expect(found.clients.get(clientId)).toEqual(await opened.storage.clients.find(clientId));
    expect(found.users.get(userId)).toEqual(await opened.storage.users.findById(userId));
    const plain = await opened.storage.oidc.findAmongWithRelated(['AccessToken'], token);
    expect([plain.clients.size, plain.users.size]).toEqual([0, 0]);
  });

  it('answers userinfo\'s client and account reads from the lookup, in that request only', async () => {
    const token = await accessToken();
    const { adapterFor, clientReads, userReads } = server();
    const [found, client, user] = await inRequest('userinfo', async () => [
      await adapterFor('AccessToken').find(token), await clientReads.find(clientId), await userReads.activeUser(userId),
    ]);
    expect(found).toMatchObject({ jti: token });
    expect(client?.id).toBe(clientId);
    expect(user?.id).toBe(userId);
    expect([clientStatements, userStatements]).toEqual([0, 0]);

    // Another request reads for itself.
    await inRequest('userinfo', async () => [await clientReads.find(clientId), await userReads.activeUser(userId)]);
    expect([clientStatements, userStatements]).toEqual([1, 1]);
  });

  it('brings the account at the token endpoint, and nothing at introspection', async () => {
    const token = await accessToken();
    const { adapterFor, clientReads, userReads } = server();
    await inRequest('token', async () => {
      await clientReads.find(clientId);
      await adapterFor('AccessToken').find(token);
      await userReads.activeUser(userId);
    });
    expect([clientStatements, userStatements]).toEqual([1, 0]);

    clientStatements = 0;
    await inRequest('introspection', async () => {
      await adapterFor('AccessToken').find(token);
      await clientReads.find(clientId);
      await userReads.activeUser(userId);
    });
    expect([clientStatements, userStatements]).toEqual([1, 1]);
  });

  it('serves no disabled account, and reads nothing odd: a missing client, an accountId that is no uuid', async () => {
    const token = await accessToken();
    await opened.storage.users.setDisabled(userId, true);
    try {
      const { adapterFor, userReads } = server();
      const user = await inRequest('userinfo', async () => {
        await adapterFor('AccessToken').find(token);
        return userReads.activeUser(userId);
      });
      expect(user).toBeUndefined();
      expect(userStatements).toBe(0);
    } finally {
      await opened.storage.users.setDisabled(userId, false);
    }

    for (const odd of [{ clientId: 'no-such-client', accountId: "x'::uuid; SELECT 1 --" }, { clientId: 42, accountId: '00000000-0000-0000-0000-00000000000g' }]) {
      const oddToken = await accessToken(odd);
      const found = await opened.storage.oidc.findAmongWithRelated(['AccessToken'], oddToken, { client: true, user: true });
      expect(found.found.get('AccessToken')).toMatchObject({ jti: oddToken });
      expect([found.clients.size, found.users.size]).toEqual([0, 0]);
    }
  });
});
