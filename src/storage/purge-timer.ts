import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Storage } from './storage.js';

/**
 * Deletes what has expired, every storage.purgeIntervalSeconds: provider payloads, retired
 * signing keys, audit events past audit.retentionDays (0 keeps them), mailed account links, codes
 * and sign-in links sent by email or SMS.
 * The timer does not keep the process alive; `stop()` at shutdown.
 */
export function startPurgeTimer(
  storage: Storage,
  config: Pick<Config, 'audit' | 'storage'>,
  log: Logger,
): { stop(): void } {
  const purge = setInterval(() => {
    const auditCutoff =
      config.audit.retentionDays > 0 ? new Date(Date.now() - config.audit.retentionDays * 86_400_000) : null;
    Promise.all([
      storage.oidc.purgeExpired(),
      storage.signingKeys.deleteExpired(),
      auditCutoff ? storage.audit.deleteOlderThan(auditCutoff) : 0,
      storage.accountLinks.deleteExpired(),
      storage.oneTimeCodes.deleteExpired(),
    ])
      .then(([rows, keysDeleted, auditEvents, links, codes]) =>
        log.debug({ rows, keysDeleted, auditEvents, links, codes }, 'expired rows purged'),
      )
      .catch((err: unknown) => log.warn({ err }, 'purge failed'));
  }, config.storage.purgeIntervalSeconds * 1000);
  purge.unref();
  return { stop: () => clearInterval(purge) };
}
