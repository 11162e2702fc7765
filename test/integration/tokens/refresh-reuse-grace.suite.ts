import { runSql } from '../../../src/storage/data-source.js';
import { InvalidInputError } from '../../../src/errors/domain-errors.js';
import { STORE_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { OFFLINE, postToken, refreshTokenOf, signIn } from '../../helpers/tokens.js';
import type { TestClient } from '../../helpers/factories.js';
import type { oidc } from '../../helpers/rp.js';

/**
 * Issue 14 §9: a refresh whose response was lost. Within the client's grace, the token that was
 * just rotated may be presented again while its successor is unused: it yields a new successor
 * and voids the unused one. Anything else is reuse, which revokes the grant.
 */
describe.each(STORE_BACKENDS)('refresh token reuse grace (%s)', (backend) => {
  const server = useTestServer(backend);

  interface Chain {
    rp: oidc.Configuration;
    client: TestClient;
    first: string;
  }

  async function chain(graceSeconds: number | undefined): Promise<Chain> {
    const client = await server.buildClient(
      graceSeconds === undefined ? {} : { refreshReuseGraceSeconds: graceSeconds },
    );
    const { rp, tokens } = await signIn(server, { client, params: OFFLINE });
    return { rp, client, first: refreshTokenOf(tokens) };
  }

  const refresh = async ({ rp, client }: Chain, token: string) => {
    const answer = await postToken(rp, client, { grant_type: 'refresh_token', refresh_token: token });
    return {
      status: answer.status,
      error: answer.body.error,
      token: typeof answer.body.refresh_token === 'string' ? answer.body.refresh_token : undefined,
    };
  };

  it('rotates a just-rotated token again while its successor is unused, and voids that successor', async () => {
    const c = await chain(30);
    const lost = await refresh(c, c.first);
    expect(lost).toMatchObject({ status: 200, token: expect.any(String) });
    // The response never arrived: the client presents the same token again.
    const retried = await refresh(c, c.first);
    expect(retried).toMatchObject({ status: 200, token: expect.any(String) });
    expect(retried.token).not.toBe(lost.token);
    // The successor the client never received is void; refusing it is not a reuse.
    expect(await refresh(c, lost.token ?? '')).toMatchObject({ status: 400, error: 'invalid_grant' });
    const next = await refresh(c, retried.token ?? '');
    expect(next).toMatchObject({ status: 200, token: expect.any(String) });
    expect(await refresh(c, next.token ?? '')).toMatchObject({ status: 200 });
  });

  it('takes the spent token for reuse once its successor was used: the grant is revoked', async () => {
    const c = await chain(30);
    const second = await refresh(c, c.first);
    const third = await refresh(c, second.token ?? '');
    expect(third.status).toBe(200);
    expect(await refresh(c, c.first)).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(await refresh(c, third.token ?? '')).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('takes it for reuse after the grace: the grant is revoked', async () => {
    const c = await chain(30);
    const lost = await refresh(c, c.first);
    expect(lost.status).toBe(200);
    // The first rotation happened a minute ago, as far as the database can tell.
    await runSql(
      server.gatehouse.storage.storage.dataSource,
      "UPDATE oidc_payloads SET consumed_at = consumed_at - interval '1 minute' WHERE model = 'RefreshToken' AND id = $1",
      [server.gatehouse.tokenDigest.storedId('RefreshToken', c.first)],
    );
    expect(await refresh(c, c.first)).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(await refresh(c, lost.token ?? '')).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('is off by default: presenting a rotated token again revokes the grant', async () => {
    const c = await chain(undefined);
    const lost = await refresh(c, c.first);
    expect(lost.status).toBe(200);
    expect(await refresh(c, c.first)).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(await refresh(c, lost.token ?? '')).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('refuses a grace that is not 0 to 60 whole seconds, or without the refresh_token grant', async () => {
    for (const bad of [-1, 61, 1.5]) {
      await expect(server.buildClient({ refreshReuseGraceSeconds: bad })).rejects.toMatchObject({
        field: 'refresh_token_reuse_grace_seconds',
      });
    }
    await expect(
      server.buildClient({ refreshReuseGraceSeconds: 10, grantTypes: ['authorization_code'] }),
    ).rejects.toBeInstanceOf(InvalidInputError);
  });
});
