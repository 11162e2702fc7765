import { randomBytes } from 'node:crypto';
import { errors, type Adapter } from 'oidc-provider';
import { STORE_BACKENDS } from '../../helpers/backends.js';
import { openTestStorage } from '../../helpers/storage.js';
import { createAdapter } from '../../../src/oidc/adapter.js';
import { runSql } from '../../../src/storage/data-source.js';
import { BEARER_MODELS } from '../../../src/security/token-digest.js';
import { setMigrationContext } from '../../../src/storage/migration-context.js';
import { referenceOf } from '../../../src/storage/initial-access-token-reference.js';
import { TokenDigests1765065600000 } from '../../../migrations/1765065600000-token-digests.js';
import { Consents1765152000000 } from '../../../migrations/1765152000000-consents.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';

const GRANT_BOUND = [
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
];
const id = () => randomBytes(12).toString('base64url');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The adapter contract (panva test/models.js style), run against every store. */
describe.each(STORE_BACKENDS)('adapter contract (%s)', (backend) => {
  let opened: Awaited<ReturnType<typeof openTestStorage>>;
  let adapterFor: (model: string) => Adapter;
  beforeAll(async () => {
    opened = await openTestStorage(backend);
    adapterFor = createAdapter({
      oidc: opened.storage.oidc,
      digest: opened.tokenDigest,
      clients: opened.storage.clients,
    });
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await opened?.dispose();
  });

  it('stores, finds and expires payloads with exp ≈ now + expiresIn', async () => {
    const adapter = adapterFor('AccessToken');
    const jti = id();
    await adapter.upsert(jti, { jti, grantId: id(), accountId: 'acc-1', kind: 'AccessToken' }, 300);
    expect(await adapter.find(jti)).toMatchObject({ jti, accountId: 'acc-1' });
    const { rows } = await runSql<{ seconds: number }>(
      opened.storage.dataSource,
      "SELECT extract(epoch FROM expires_at - now())::int AS seconds FROM oidc_payloads WHERE model = 'AccessToken' AND id = $1",
      [opened.tokenDigest.storedId('AccessToken', jti)],
    );
    expect(rows[0]?.seconds).toBeGreaterThanOrEqual(298);
    expect(rows[0]?.seconds).toBeLessThanOrEqual(300);

    const short = id();
    await adapter.upsert(short, { jti: short }, 1);
    await sleep(1200);
    expect(await adapter.find(short)).toBeUndefined();
    expect(await opened.storage.oidc.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await adapter.find('does-not-exist')).toBeUndefined();
  });

  it('finds sessions by uid and device codes by user code, not across models', async () => {
    const session = adapterFor('Session');
    const sid = id();
    const uid = id();
    await session.upsert(sid, { uid, accountId: 'acc-2' }, 60);
    expect(await session.findByUid(uid)).toMatchObject({ uid, accountId: 'acc-2' });
    expect(await adapterFor('Interaction').findByUid(uid)).toBeUndefined();
    const device = adapterFor('DeviceCode');
    const code = id();
    await device.upsert(code, { userCode: 'ABCD-EFGH', grantId: id() }, 60);
    expect(await device.findByUserCode('ABCD-EFGH')).toMatchObject({ userCode: 'ABCD-EFGH' });
    expect(await device.findByUserCode('ZZZZ-ZZZZ')).toBeUndefined();
  });

  it('consumes once; a second consume is a replay that revokes the grant', async () => {
    const grantId = id();
    const code = adapterFor('AuthorizationCode');
    const access = adapterFor('AccessToken');
    const jti = id();
    const tokenId = id();
    await code.upsert(jti, { jti, grantId }, 60);
    await access.upsert(tokenId, { jti: tokenId, grantId }, 60);
    await code.consume(jti);
    const consumed = await code.find(jti);
    expect(typeof consumed?.consumed).toBe('number');
    // re-saving a consumed payload keeps it consumed
    await code.upsert(jti, { jti, grantId }, 60);
    expect(typeof (await code.find(jti))?.consumed).toBe('number');

    await expect(code.consume(jti)).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect(await access.find(tokenId)).toBeUndefined();
  });

  it('lets exactly one of eight concurrent consumers win', async () => {
    const refresh = adapterFor('RefreshToken');
    const jti = id();
    await refresh.upsert(jti, { jti, grantId: id() }, 60);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => refresh.consume(jti)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof errors.InvalidGrant)).toHaveLength(7);
  });

  it.each(GRANT_BOUND)('revokeByGrantId removes %s rows of that grant only', async (model) => {
    const adapter = adapterFor(model);
    const grantId = id();
    const mine = id();
    const other = id();
    const sibling = id();
    await adapter.upsert(mine, { grantId }, 60);
    await adapter.upsert(other, { grantId: id() }, 60);
    await adapterFor('Grant').upsert(sibling, { grantId }, 60);
    await adapter.revokeByGrantId(grantId);
    expect(await adapter.find(mine)).toBeUndefined();
    expect(await adapter.find(other)).toBeDefined();
    expect(await adapterFor('Grant').find(sibling)).toBeDefined();
  });

  /** Rows (any model) whose id or payload holds `value`. */
  async function rowsHolding(value: string): Promise<Array<{ model: string }>> {
    const { rows } = await runSql<{ model: string }>(
      opened.storage.dataSource,
      'SELECT model FROM oidc_payloads WHERE id = $1 OR position($1 in payload::text) > 0',
      [value],
    );
    return rows;
  }

  it.each([...BEARER_MODELS])(
    'stores a %s under a keyed digest: no row holds its value, and the digest is no token',
    async (model) => {
      const adapter = adapterFor(model);
      const value = id();
      const grantId = id();
      await adapter.upsert(value, { jti: value, grantId, kind: model }, 60);
      expect(await rowsHolding(value)).toEqual([]);
      const storedId = opened.tokenDigest.storedId(model, value);
      expect(storedId).not.toBe(value);
      expect(await rowsHolding(storedId)).toEqual([{ model }]);
      // The provider gets back the value it looked up as the token's jti.
      expect(await adapter.find(value)).toMatchObject({ jti: value, grantId, kind: model });
      expect(await adapter.find(storedId)).toBeUndefined();
      await adapter.consume(value);
      expect(typeof (await adapter.find(value))?.consumed).toBe('number');
      await adapter.destroy(value);
      expect(await rowsHolding(storedId)).toEqual([]);
    },
  );

  it('keeps models that are not bearer secrets under their own id', async () => {
    const value = id();
    await adapterFor('Session').upsert(value, { jti: value, uid: id() }, 60);
    expect(await rowsHolding(value)).toEqual([{ model: 'Session' }]);
  });

  it('re-keys bearer rows stored by value before the upgrade, and needs the secret only when there are some', async () => {
    const legacy = { refresh: id(), iat: id(), session: id() };
    const insert = (model: string, value: string, payload: Record<string, unknown>) =>
      runSql(
        opened.storage.dataSource,
        "INSERT INTO oidc_payloads (model, id, payload, grant_id, expires_at) VALUES ($1, $2, $3, $4, now() + interval '1 hour')",
        [
          model,
          value,
          JSON.stringify({ jti: value, ...payload }),
          typeof payload.grantId === 'string' ? payload.grantId : null,
        ],
      );
    await insert('RefreshToken', legacy.refresh, { grantId: id(), kind: 'RefreshToken' });
    await insert('InitialAccessToken', legacy.iat, { kind: 'InitialAccessToken' });
    await insert('Session', legacy.session, { uid: id() });
    const migration = new TokenDigests1765065600000();
    const runner = opened.storage.dataSource.createQueryRunner();
    try {
      setMigrationContext(opened.storage.dataSource, {});
      await expect(migration.up(runner)).rejects.toThrow(/key-encryption secret/);
      expect(await rowsHolding(legacy.refresh)).toEqual([{ model: 'RefreshToken' }]);
      setMigrationContext(opened.storage.dataSource, { tokenDigest: opened.tokenDigest });
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    expect(await rowsHolding(legacy.refresh)).toEqual([]);
    expect(await rowsHolding(legacy.iat)).toEqual([]);
    expect(await adapterFor('RefreshToken').find(legacy.refresh)).toMatchObject({
      jti: legacy.refresh,
      kind: 'RefreshToken',
    });
    expect(await adapterFor('InitialAccessToken').find(legacy.iat)).toMatchObject({
      gatehouse_ref: referenceOf(legacy.iat),
    });
    expect(await rowsHolding(legacy.session)).toEqual([{ model: 'Session' }]);
  });

  it('carries the consent of live third-party grants into the consents table when it is created, the newest grant per pair', async () => {
    const { users, clients, consents, dataSource } = opened.storage;
    const user = await users.create({
      email: `${id()}@example.test`,
      name: null,
      emailVerified: true,
      passwordHash: null,
      totpSecretEncrypted: null,
    });
    const metadata = { redirect_uris: ['https://rp.example/cb'] };
    const third = await clients.create({
      id: `third-${id()}`,
      name: 'Third',
      secretHash: null,
      firstParty: false,
      metadata,
    });
    const own = await clients.create({ id: `own-${id()}`, name: 'Own', secretHash: null, firstParty: true, metadata });
    const gone = await clients.create({
      id: `gone-${id()}`,
      name: 'Expired',
      secretHash: null,
      firstParty: false,
      metadata,
    });
    const grant = (clientId: string, scope: string, age: string, expires = "now() + interval '1 hour'") =>
      runSql(
        dataSource,
        `
      INSERT INTO oidc_payloads (model, id, payload, account_id, created_at, expires_at)
      VALUES ('Grant', $1, $2, $3, now() - $4::interval, ${expires})`,
        [
          id(),
          JSON.stringify({
            accountId: user.id,
            clientId,
            openid: { scope, claims: ['email'] },
            resources: { 'https://api.example': 'read' },
          }),
          user.id,
          age,
        ],
      );
    await grant(third.id, 'openid', '2 days');
    await grant(third.id, 'openid email', '1 day');
    await grant(own.id, 'openid profile', '1 day');
    await grant(gone.id, 'openid', '1 day', "now() - interval '1 second'");
    const migration = new Consents1765152000000();
    const runner = dataSource.createQueryRunner();
    try {
      await migration.down(runner);
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    expect(await consents.find(user.id, third.id)).toEqual({
      accountId: user.id,
      clientId: third.id,
      scope: 'openid email',
      claims: ['email'],
      resourceScopes: { 'https://api.example': 'read' },
    });
    expect(await consents.find(user.id, own.id)).toBeUndefined();
    expect(await consents.find(user.id, gone.id)).toBeUndefined();
    expect((await consents.listAllowed(user.id)).map((a) => a.clientName)).toEqual(['Third']);
  });

  it('stores text PostgreSQL cannot hold (U+0000, a lone surrogate) in a payload as U+FFFD instead of failing', async () => {
    const adapter = adapterFor('Interaction');
    const uid = id();
    await adapter.upsert(uid, { uid, params: { state: 'a\u0000b', nonce: 'c\ud800d', ok: 'e\ud83d\ude00f' } }, 60);
    expect(await adapter.find(uid)).toMatchObject({
      params: { state: 'a\ufffdb', nonce: 'c\ufffdd', ok: 'e\ud83d\ude00f' },
    });
  });

  it('destroys one payload', async () => {
    const adapter = adapterFor('Interaction');
    const uid = id();
    await adapter.upsert(uid, { uid }, 60);
    await adapter.destroy(uid);
    expect(await adapter.find(uid)).toBeUndefined();
  });

  it('reads clients from the clients table and refuses provider writes', async () => {
    await opened.storage.clients.create({
      id: 'contract-client',
      name: 'Contract',
      secretHash: 'hash',
      firstParty: true,
      metadata: { redirect_uris: ['https://rp.example/cb'] },
    });
    const clients = adapterFor('Client');
    expect(await clients.find('contract-client')).toMatchObject({
      client_id: 'contract-client',
      client_secret: 'hash',
      client_name: 'Contract',
      redirect_uris: ['https://rp.example/cb'],
    });
    expect(await clients.find('unknown')).toBeUndefined();
    await expect(clients.upsert('x', {}, 1)).rejects.toThrow(/managed through Gatehouse/);
  });

  it('has a schema that matches the entities after migrations', async () => {
    const pending = await opened.storage.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    expect(await opened.storage.dataSource.showMigrations()).toBe(false);
  });
});
