import { randomBytes } from 'node:crypto';
import type { Adapter } from 'oidc-provider';
import { BACKENDS } from '../../helpers/backends.js';
import { openTestStorage } from '../../helpers/storage.js';
import { createAdapter } from '../../../src/oidc/adapter.js';
import type { OidcPayloadRepository } from '../../../src/storage/oidc-payload.repository.js';

const id = () => randomBytes(12).toString('base64url');

/**
 * Finds of one value as several models in the same tick (oidc-provider's findToken) share one
 * statement, and each still answers for its own model; nothing is kept for a later find.
 */
describe.each(BACKENDS)('batched adapter finds (%s)', (backend) => {
  let opened: Awaited<ReturnType<typeof openTestStorage>>;
  let adapterFor: (model: string) => Adapter;
  let statements: number;
  beforeAll(async () => {
    opened = await openTestStorage(backend);
    const real = opened.storage.oidc;
    // The real repository, counting the lookups it is asked for.
    const counting: OidcPayloadRepository = {
      ...real,
      find: (model, value) => { statements++; return real.find(model, value); },
      findAmong: (models, value) => { statements++; return real.findAmong(models, value); },
    };
    adapterFor = createAdapter({ oidc: counting, clients: opened.storage.clients });
  });
  beforeEach(() => { statements = 0; });
  afterAll(async () => { await opened?.dispose(); });

  it('answers an access token and a client-credentials lookup of one value with one statement', async () => {
    const value = id();
    await adapterFor('ClientCredentials').upsert(value, { jti: value, clientId: 'c-1', kind: 'ClientCredentials' }, 60);
    statements = 0;
    const [asAccessToken, asClientCredentials] = await Promise.all([adapterFor('AccessToken').find(value), adapterFor('ClientCredentials').find(value)]);
    expect(asAccessToken).toBeUndefined();
    expect(asClientCredentials).toMatchObject({ jti: value, clientId: 'c-1' });
    expect(statements).toBe(1);
  });

  it('keeps nothing: a find after a destroy or a consume sees it', async () => {
    const value = id();
    const access = adapterFor('AccessToken');
    const refresh = adapterFor('RefreshToken');
    await refresh.upsert(value, { jti: value, grantId: id() }, 60);
    const [first] = await Promise.all([refresh.find(value), access.find(value)]);
    expect(first).toMatchObject({ jti: value });
    expect(first?.consumed).toBeUndefined();
    await refresh.consume(value);
    expect((await refresh.find(value))?.consumed).toEqual(expect.any(Number));
    await refresh.destroy(value);
    const [gone, none] = await Promise.all([refresh.find(value), access.find(value)]);
    expect(gone).toBeUndefined();
    expect(none).toBeUndefined();
    expect(statements).toBe(3);
  });

  it('looks up different values apart, and one model alone as before', async () => {
    const a = id();
    const b = id();
    await adapterFor('AccessToken').upsert(a, { jti: a }, 60);
    await adapterFor('AccessToken').upsert(b, { jti: b }, 60);
    statements = 0;
    const [foundA, foundB] = await Promise.all([adapterFor('AccessToken').find(a), adapterFor('AccessToken').find(b)]);
    expect(foundA).toMatchObject({ jti: a });
    expect(foundB).toMatchObject({ jti: b });
    expect(statements).toBe(2);
  });
});
