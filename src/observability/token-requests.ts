import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AuditLog } from '../security/audit.js';

/**
 * How often the counts are written: a chart bucket is an hour, so a few minutes late is
 * invisible, and the audit log gets a row per busy client every five minutes, not every minute.
 */
const FLUSH_INTERVAL_MS = 5 * 60_000;

export interface TokenRequestTally {
  /** Hears the provider's successful token responses (grant.success). */
  attach(provider: Provider): void;
  /** Writes what was counted since the last write (the timer does it every five minutes; tests and shutdown call it). */
  flush(): Promise<void>;
  /** Stops the timer and writes the rest. */
  stop(): Promise<void>;
}

/**
 * Token requests per client for the dashboard (docs/decisions.md, "Token requests per client"):
 * counted in memory per client and grant type and written to the audit log as one
 * `token.requests` event per client and grant type every five minutes, with the count in
 * details. One audit row per token would put an insert on every token response; one per
 * client every five minutes costs nothing measurable and is summed in SQL like every other
 * figure. A crash loses at most the last five minutes' counts, which a dashboard can afford.
 */
export function createTokenRequestTally(deps: { audit: AuditLog; log: Logger }): TokenRequestTally {
  let counts = new Map<string, { clientId: string; grantType: string; count: number }>();
  let flushing: Promise<void> = Promise.resolve();

  async function write(batch: typeof counts) {
    for (const { clientId, grantType, count } of batch.values()) {
      await deps.audit.record('token.requests', { clientId, details: { grant_type: grantType, count } });
    }
  }

  function flush(): Promise<void> {
    const batch = counts;
    counts = new Map();
    // One write at a time, in order: a slow database does not pile flushes up in parallel.
    flushing = flushing.then(() =>
      write(batch).catch((err: unknown) => deps.log.warn({ err }, 'could not record token request counts')),
    );
    return flushing;
  }

  const timer = setInterval(() => void flush(), FLUSH_INTERVAL_MS);
  timer.unref();

  return {
    attach(provider) {
      provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
        const clientId = ctx.oidc.client?.clientId;
        const grantType = ctx.oidc.params?.grant_type;
        if (!clientId) return;
        const type = typeof grantType === 'string' ? grantType : 'other';
        const key = `${clientId}\u0000${type}`;
        const entry = counts.get(key) ?? { clientId, grantType: type, count: 0 };
        entry.count += 1;
        counts.set(key, entry);
      });
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
