import { STORE_BACKENDS } from '../../helpers/backends.js';
import { openTestStorage } from '../../helpers/storage.js';
import { accountLinks, linkTokenDigest } from '../../../src/accounts/account-links.js';
import { runSql } from '../../../src/storage/data-source.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';

describe.each(STORE_BACKENDS)('mailed links (%s)', (backend) => {
  let opened: Awaited<ReturnType<typeof openTestStorage>>;
  let userId: string;
  beforeAll(async () => {
    opened = await openTestStorage(backend);
    userId = (
      await opened.storage.users.create({
        email: `links-${Date.now()}@example.test`,
        name: null,
        passwordHash: null,
        emailVerified: false,
        totpSecretEncrypted: null,
      })
    ).id;
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await opened?.dispose();
  });

  it('stores only a digest, works once, and carries its data', async () => {
    const { storage } = opened;
    const token = await accountLinks.issue(storage, {
      userId,
      purpose: 'change-email',
      ttlSeconds: 60,
      data: { email: 'new@example.test' },
    });
    const { rows } = await runSql<{ token_digest: string }>(
      storage.dataSource,
      'SELECT token_digest FROM account_links WHERE user_id = $1',
      [userId],
    );
    expect(rows).toEqual([{ token_digest: linkTokenDigest(token) }]);
    expect(rows[0]?.token_digest).not.toContain(token);
    expect(await accountLinks.check(storage, 'change-email', token)).toMatchObject({ userId });
    const used = await accountLinks.use(storage, 'change-email', token);
    expect(used).toMatchObject({ userId, data: { email: 'new@example.test' } });
    expect(await accountLinks.use(storage, 'change-email', token)).toBeUndefined();
    expect(await accountLinks.check(storage, 'change-email', token)).toBeUndefined();
  });

  it('refuses another purpose, a malformed token, an expired link and a replaced one', async () => {
    const { storage } = opened;
    const first = await accountLinks.issue(storage, { userId, purpose: 'reset-password', ttlSeconds: 60 });
    expect(await accountLinks.use(storage, 'verify-email', first)).toBeUndefined();
    expect(await accountLinks.use(storage, 'reset-password', `${first}x`)).toBeUndefined();
    expect(await accountLinks.use(storage, 'reset-password', { token: first })).toBeUndefined();
    const second = await accountLinks.issue(storage, { userId, purpose: 'reset-password', ttlSeconds: 60 });
    expect(await accountLinks.use(storage, 'reset-password', first)).toBeUndefined();
    await runSql(
      storage.dataSource,
      "UPDATE account_links SET expires_at = now() - interval '1 second' WHERE user_id = $1",
      [userId],
    );
    expect(await accountLinks.use(storage, 'reset-password', second)).toBeUndefined();
    expect(await storage.accountLinks.deleteExpired()).toBeGreaterThanOrEqual(1);
  });

  it('gives a link to only one of two concurrent uses', async () => {
    const { storage } = opened;
    const token = await accountLinks.issue(storage, { userId, purpose: 'verify-email', ttlSeconds: 60 });
    const results = await Promise.all([
      accountLinks.use(storage, 'verify-email', token),
      accountLinks.use(storage, 'verify-email', token),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
