import { randomBytes } from 'node:crypto';
// oidc-provider's own request store: what Provider.ctx reads inside a provider request.
import als from 'oidc-provider/lib/helpers/als.js';
import { STORE_BACKENDS } from '../../helpers/backends.js';
import { countingAdapterSuite } from '../../helpers/counting-adapter.js';

const id = () => randomBytes(12).toString('base64url');
/** Runs `work` as if inside one provider request (a fresh context object). */
const inRequest = <T>(work: () => Promise<T>): Promise<T> => als.run({}, work);

/**
 * A token found inside a provider request brings its Grant and Session along in the same
 * statement; the provider's next finds of them (and its re-reads of an interaction) are
 * answered from that read, never after a write to the model or in another request.
 */
describe.each(STORE_BACKENDS)('adapter reads of a token with its grant and session (%s)', (backend) => {
  const counting = countingAdapterSuite(backend);
  const adapterFor = (model: string) => counting.adapterFor(model);

  async function issued() {
    const grantId = id();
    const sessionUid = id();
    const token = id();
    await adapterFor('Grant').upsert(
      grantId,
      { jti: grantId, accountId: 'acc-1', clientId: 'c-1', kind: 'Grant' },
      600,
    );
    await adapterFor('Session').upsert(
      id(),
      { jti: 'session', uid: sessionUid, accountId: 'acc-1', kind: 'Session' },
      600,
    );
    await adapterFor('RefreshToken').upsert(token, { jti: token, grantId, sessionUid, kind: 'RefreshToken' }, 600);
    counting.reset();
    return { grantId, sessionUid, token };
  }

  it('answers the token, its grant and its session with one statement', async () => {
    const { grantId, sessionUid, token } = await issued();
    const [found, grant, session] = await inRequest(async () => {
      const refresh = await adapterFor('RefreshToken').find(token);
      return [refresh, await adapterFor('Grant').find(grantId), await adapterFor('Session').findByUid(sessionUid)];
    });
    expect(found).toMatchObject({ jti: token, grantId });
    expect(grant).toMatchObject({ jti: grantId, accountId: 'acc-1' });
    expect(session).toMatchObject({ uid: sessionUid, accountId: 'acc-1' });
    expect(counting.statements()).toBe(1);
  });

  it('serves them for the rest of the request, each read its own copy, and not to another request', async () => {
    const { grantId, token } = await issued();
    const otherRequest = await inRequest(async () => {
      await adapterFor('RefreshToken').find(token);
      const first = await adapterFor('Grant').find(grantId);
      const second = await adapterFor('Grant').find(grantId);
      expect(second).toEqual(first);
      (first as { accountId: string }).accountId = 'changed by the provider';
      expect(await adapterFor('Grant').find(grantId)).toMatchObject({ accountId: 'acc-1' });
      return inRequest(() => adapterFor('Grant').find(grantId));
    });
    expect(otherRequest).toMatchObject({ jti: grantId });
    // token with its grant and session, then the other request's own grant find
    expect(counting.statements()).toBe(2);
  });

  it('reads an interaction once per request until the request saves it', async () => {
    const uid = id();
    await adapterFor('Interaction').upsert(
      uid,
      { jti: uid, kind: 'Interaction', prompt: { name: 'login', reasons: [], details: {} } },
      600,
    );
    counting.reset();
    const seen = await inRequest(async () => {
      const before = await adapterFor('Interaction').find(uid);
      const again = await adapterFor('Interaction').find(uid);
      await adapterFor('Interaction').upsert(
        uid,
        { jti: uid, kind: 'Interaction', prompt: { name: 'consent', reasons: [], details: {} } },
        600,
      );
      return [before, again, await adapterFor('Interaction').find(uid)];
    });
    expect(seen.map((p) => (p as { prompt: { name: string } }).prompt.name)).toEqual(['login', 'login', 'consent']);
    expect(counting.statements()).toBe(2);
  });

  it('reads a grant destroyed or a session rewritten in the same request from the database', async () => {
    const { grantId, sessionUid, token } = await issued();
    const [grant, session] = await inRequest(async () => {
      await adapterFor('RefreshToken').find(token);
      await adapterFor('Grant').destroy(grantId);
      await adapterFor('Session').upsert(
        id(),
        { jti: 'session-2', uid: id(), accountId: 'acc-2', kind: 'Session' },
        600,
      );
      return [await adapterFor('Grant').find(grantId), await adapterFor('Session').findByUid(sessionUid)];
    });
    expect(grant).toBeUndefined();
    expect(session).toMatchObject({ uid: sessionUid });
    expect(counting.statements()).toBe(3);
  });

  it('keeps nothing a write overtook: a grant written after the token lookup read it is read again', async () => {
    const { grantId, sessionUid, token } = await issued();
    const [found, grant, session] = await inRequest(async () => {
      // The lookup has read the grant; before it returns, the request writes the grant.
      counting.afterNextLookup(() =>
        adapterFor('Grant').upsert(
          grantId,
          { jti: grantId, accountId: 'acc-1', clientId: 'c-1', kind: 'Grant', scope: 'written meanwhile' },
          600,
        ),
      );
      const lookup = await adapterFor('RefreshToken').find(token);
      return [lookup, await adapterFor('Grant').find(grantId), await adapterFor('Session').findByUid(sessionUid)];
    });
    expect(found).toMatchObject({ jti: token });
    expect(grant).toMatchObject({ scope: 'written meanwhile' });
    // Session was not written: its row from the lookup still serves the request.
    expect(session).toMatchObject({ uid: sessionUid });
    // the token with its rows, then the grant read again; no session read
    expect(counting.statements()).toBe(2);
  });

  it('brings nothing for a token whose grant and session are gone, or outside a request', async () => {
    const { grantId, sessionUid, token } = await issued();
    await counting.storage().sessions.revokeAccount('acc-1');
    await adapterFor('RefreshToken').upsert(token, { jti: token, grantId, sessionUid, kind: 'RefreshToken' }, 600);
    counting.reset();
    const inside = await inRequest(async () => [
      await adapterFor('RefreshToken').find(token),
      await adapterFor('Grant').find(grantId),
      await adapterFor('Session').findByUid(sessionUid),
    ]);
    expect(inside[0]).toMatchObject({ jti: token });
    expect(inside.slice(1)).toEqual([undefined, undefined]);
    expect(counting.statements()).toBe(3);
    counting.reset();
    expect(await adapterFor('RefreshToken').find(token)).toMatchObject({ jti: token });
    expect(await adapterFor('Grant').find(grantId)).toBeUndefined();
    expect(counting.statements()).toBe(2);
  });

  it('finds nothing for a value no token has, even one carrying U+0000', async () => {
    counting.reset();
    const found = await inRequest(() => adapterFor('AccessToken').find(`${id()}\u0000`));
    expect(found).toBeUndefined();
    expect(counting.statements()).toBe(1);
  });
});
