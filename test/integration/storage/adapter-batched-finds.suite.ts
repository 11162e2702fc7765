import { randomBytes } from 'node:crypto';
import { STORE_BACKENDS } from '../../helpers/backends.js';
import { countingAdapterSuite } from '../../helpers/counting-adapter.js';

const id = () => randomBytes(12).toString('base64url');

/**
 * Finds of one value as several models in the same tick (oidc-provider's findToken) share one
 * statement, and each still answers for its own model; nothing is kept for a later find.
 */
describe.each(STORE_BACKENDS)('batched adapter finds (%s)', (backend) => {
  const counting = countingAdapterSuite(backend);
  const adapterFor = (model: string) => counting.adapterFor(model);
  beforeEach(() => counting.reset());

  it('answers an access token and a client-credentials lookup of one value with one statement', async () => {
    const value = id();
    await adapterFor('ClientCredentials').upsert(value, { jti: value, clientId: 'c-1', kind: 'ClientCredentials' }, 60);
    counting.reset();
    const [asAccessToken, asClientCredentials] = await Promise.all([
      adapterFor('AccessToken').find(value),
      adapterFor('ClientCredentials').find(value),
    ]);
    expect(asAccessToken).toBeUndefined();
    expect(asClientCredentials).toMatchObject({ jti: value, clientId: 'c-1' });
    expect(counting.statements()).toBe(1);
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
    expect(counting.statements()).toBe(3);
  });

  it('looks up different values apart, and one model alone as before', async () => {
    const a = id();
    const b = id();
    await adapterFor('AccessToken').upsert(a, { jti: a }, 60);
    await adapterFor('AccessToken').upsert(b, { jti: b }, 60);
    counting.reset();
    const [foundA, foundB] = await Promise.all([adapterFor('AccessToken').find(a), adapterFor('AccessToken').find(b)]);
    expect(foundA).toMatchObject({ jti: a });
    expect(foundB).toMatchObject({ jti: b });
    expect(counting.statements()).toBe(2);
  });
});
