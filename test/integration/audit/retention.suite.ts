import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';

/** audit.retentionDays is enforced by the purge job that also sweeps expired protocol rows. */
describe.each(HTTP_BACKENDS)('audit retention (%s)', (backend) => {
  const server = useTestServer(backend, { audit: { retentionDays: 30 }, storage: { purgeIntervalSeconds: 1 } });

  it('deletes events older than the retention and keeps the rest', async () => {
    const { dataSource } = server.gatehouse.storage.storage;
    await dataSource.query(`INSERT INTO audit_events (action, details, created_at) VALUES
      ('retention.old', '{}', now() - interval '31 days'), ('retention.recent', '{}', now() - interval '29 days')`);
    let left: Array<{ action: string }> = [];
    for (let waited = 0; waited < 10_000; waited += 250) {
      left = (await dataSource.query(
        "SELECT action FROM audit_events WHERE action LIKE 'retention.%' ORDER BY action",
      )) as typeof left;
      if (left.length === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(left).toEqual([{ action: 'retention.recent' }]);
  });
});
