import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Storage } from './storage.js';

/**
 * The tables whose rows are deleted all the time (expired tokens, sessions and interactions,
 * audit events past retention, codes and links). PGlite runs PostgreSQL single-user, where no
 * autovacuum runs: without a VACUUM the space of deleted rows is never reused and the embedded
 * database grows with every token ever issued (a table of 2,000 tokens inserted and deleted
 * grew by 1.1 MB a round, for ever; issue 20). PostgreSQL's own autovacuum does this there.
 */
const CHURNED_TABLES = ['oidc_payloads', 'audit_events', 'one_time_codes', 'account_links'];

/**
 * Deletes what has expired: provider payloads, retired signing keys, audit events past
 * audit.retentionDays (0 keeps them), mailed account links, codes and sign-in links sent by email
 * or SMS. `vacuum` (the embedded database) then vacuums and analyses the tables that churn.
 */
export async function purgeExpired(
  storage: Storage,
  config: Pick<Config, 'audit'>,
  options: { vacuum: boolean },
): Promise<Record<'rows' | 'keysDeleted' | 'auditEvents' | 'links' | 'codes', number>> {
  const auditCutoff =
    config.audit.retentionDays > 0 ? new Date(Date.now() - config.audit.retentionDays * 86_400_000) : null;
  const [rows, keysDeleted, auditEvents, links, codes] = await Promise.all([
    storage.oidc.purgeExpired(),
    storage.signingKeys.deleteExpired(),
    auditCutoff ? storage.audit.deleteOlderThan(auditCutoff) : 0,
    storage.accountLinks.deleteExpired(),
    storage.oneTimeCodes.deleteExpired(),
  ]);
  if (options.vacuum) await storage.dataSource.query(`VACUUM (ANALYZE) ${CHURNED_TABLES.join(', ')}`);
  return { rows, keysDeleted, auditEvents, links, codes };
}

/**
 * purgeExpired every storage.purgeIntervalSeconds. The timer does not keep the process alive;
 * `stop()` at shutdown.
 */
export function startPurgeTimer(
  storage: Storage,
  config: Pick<Config, 'audit' | 'storage'>,
  log: Logger,
  options: { vacuum: boolean },
): { stop(): void } {
  const purge = setInterval(() => {
    purgeExpired(storage, config, options)
      .then((purged) => log.debug(purged, 'expired rows purged'))
      .catch((err: unknown) => log.warn({ err }, 'purge failed'));
  }, config.storage.purgeIntervalSeconds * 1000);
  purge.unref();
  return { stop: () => clearInterval(purge) };
}
