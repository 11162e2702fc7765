import { randomUUID } from 'node:crypto';
import { STORE_BACKENDS } from '../../helpers/backends.js';
import { useTestStorage } from '../../helpers/storage.js';
import { purgeExpired } from '../../../src/storage/purge-timer.js';

/**
 * The purge deletes what has expired; on the embedded database, where PGlite runs no
 * autovacuum, it also vacuums, so the space of what it deleted is used again instead of the
 * table growing with every token ever issued.
 */
describe.each(STORE_BACKENDS)('purging expired rows (%s)', (backend) => {
  const opened = useTestStorage(backend);
  const vacuum = backend === 'embedded';
  const tableBytes = async () =>
    Number(
      (
        await opened().storage.dataSource.query<Array<{ bytes: string }>>(
          "SELECT pg_relation_size('oidc_payloads') AS bytes",
        )
      )[0]?.bytes,
    );
  /** 2,000 access tokens that expired a minute ago. */
  const expiredTokens = async () => {
    const ids = Array.from({ length: 2000 }, () => randomUUID());
    await opened().storage.dataSource.query(
      `INSERT INTO oidc_payloads (model, id, payload, expires_at)
       SELECT 'AccessToken', id, jsonb_build_object('jti', id, 'pad', repeat('x', 400)), now() - interval '1 minute'
       FROM unnest($1::text[]) id`,
      [ids],
    );
    return ids;
  };

  it('deletes the expired rows and keeps a live one', async () => {
    const live = randomUUID();
    await opened().storage.oidc.upsert({
      model: 'AccessToken',
      id: live,
      payload: { jti: live },
      expiresInSeconds: 600,
    });
    const [expired] = await expiredTokens();
    const purged = await purgeExpired(opened().storage, opened().config, { vacuum });
    expect(purged.rows).toBeGreaterThanOrEqual(2000);
    expect(await opened().storage.oidc.find('AccessToken', live)).toBeDefined();
    const left = await opened().storage.dataSource.query(
      "SELECT 1 FROM oidc_payloads WHERE model = 'AccessToken' AND id = $1",
      [expired],
    );
    expect(left).toEqual([]);
  });

  if (vacuum) {
    it('uses the space of what it deleted again: issuing and purging tokens does not grow the table', async () => {
      await expiredTokens();
      await purgeExpired(opened().storage, opened().config, { vacuum });
      const settled = await tableBytes();
      for (let round = 0; round < 3; round++) {
        await expiredTokens();
        await purgeExpired(opened().storage, opened().config, { vacuum });
      }
      // Without the vacuum each round adds about 1.1 MB.
      expect(await tableBytes()).toBeLessThanOrEqual(settled + 64 * 1024);
    });
  }
});
