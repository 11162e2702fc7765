import { Counter, Registry } from 'prom-client';

/**
 * The process's metrics: one Registry per Gatehouse instance (tests run several in one
 * process, and a global registry would refuse the second set of names). The /metrics
 * endpoint will serve `registry`; until then tests read it.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Requests refused by a rate limit, by policy (every refusal, not once per window like the audit log). */
  readonly rateLimitHits: Counter<'policy'>;
  /** Lockouts started (a back-off imposed), by factor: password or second_factor. */
  readonly lockouts: Counter<'factor'>;
  /** Limiter operations answered by the in-process counters because Redis did not answer. */
  readonly limiterFallbacks: Counter;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    rateLimitHits: new Counter({
      name: 'gatehouse_rate_limit_hits_total', help: 'Requests refused by a rate limit', labelNames: ['policy'], registers: [registry],
    }),
    lockouts: new Counter({
      name: 'gatehouse_lockouts_total', help: 'Sign-in back-offs started after repeated failures', labelNames: ['factor'], registers: [registry],
    }),
    limiterFallbacks: new Counter({
      name: 'gatehouse_limiter_redis_fallbacks_total', help: 'Limiter operations served by in-process counters while Redis was unavailable', registers: [registry],
    }),
  };
}

/** The current value of a counter (summed over labels, or for one label set): for tests and the console. */
export async function counterValue(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([name, value]) => v.labels[name] === value))
    .reduce((sum, v) => sum + v.value, 0);
}
