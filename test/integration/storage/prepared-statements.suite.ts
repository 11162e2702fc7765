import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { openTestStorage } from '../../helpers/storage.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';
import { createClientsRepository } from '../../../src/storage/clients.repository.js';
import { createOidcStoreRepository } from '../../../src/storage/oidc-store.repository.js';

/**
 * runSql's statements are prepared on PostgreSQL unless `storage.preparedStatements` is false
 * (a pooler that cannot keep them). The repositories run on one connection of the storage's
 * pool, which is then asked what its session has prepared.
 */
describe.each(HTTP_BACKENDS)('prepared statements (%s)', (backend) => {
  const preparedAfterReads = async (preparedStatements: boolean): Promise<string[]> => {
    const opened = await openTestStorage(backend, { overrides: { storage: { preparedStatements } } });
    const runner = opened.storage.dataSource.createQueryRunner();
    try {
      await runner.connect();
      expect(await createClientsRepository(runner.manager).find('no-such-client')).toBeNull();
      expect(await createOidcStoreRepository(runner.manager).find('AccessToken', 'no-such-token')).toBeUndefined();
      const rows = (await runner.query("SELECT name FROM pg_prepared_statements WHERE name LIKE 'gh\\_%'")) as Array<{
        name: string;
      }>;
      return rows.map((row) => row.name);
    } finally {
      await runner.release();
      await opened.dispose();
    }
  };

  it(
    'prepares them by default, each once under a name of its text, and not when switched off',
    async () => {
      const names = await preparedAfterReads(true);
      expect(names).toHaveLength(2);
      expect(await preparedAfterReads(false)).toEqual([]);
    },
    BOOT_TIMEOUT,
  );
});
