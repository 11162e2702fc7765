import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the database pool reports when scraped (pg Pool's counters). */
interface PoolUsage {
  total: number;
  idle: number;
  waiting: number;
}

/**
 * The process's metrics: one Registry per Gatehouse instance (tests run several in one
 * process, and a global registry would refuse the second set of names). /metrics serves
 * `registry` (src/observability/metrics-endpoint.ts). Every label has a fixed, small set of
 * values: route templates, never paths; names from our own vocabularies, never input.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Requests refused by a rate limit, by policy (every refusal, not once per window like the audit log). */
  readonly rateLimitHits: Counter<'policy'>;
  /** Lockouts started (a back-off imposed), by factor: password or second_factor. */
  readonly lockouts: Counter<'factor'>;
  /** Limiter operations answered by the in-process counters because Redis did not answer. */
  readonly limiterFallbacks: Counter;
  /** Request duration by route template, method and status class (2xx…5xx). */
  readonly httpRequestDuration: Histogram<'route' | 'method' | 'status_class'>;
  /** Successful token endpoint responses, by grant type. */
  readonly tokensIssued: Counter<'grant_type'>;
  /** First-factor sign-in attempts, by method (password, passkey) and result. */
  readonly signIns: Counter<'method' | 'result'>;
  /** Second-factor checks, by method (totp, recovery_code, security_key) and result. */
  readonly secondFactors: Counter<'method' | 'result'>;
  /** Rotated refresh tokens presented again (the grant is revoked each time). */
  readonly refreshTokenReuse: Counter;
  /** Codes and sign-in links handed to a transport, by channel (email, sms), transport and result (sent, failed). */
  readonly codeDeliveries: Counter<'channel' | 'transport' | 'result'>;
  /** Reads the database pool on each scrape; until called the pool gauges report nothing. */
  observePool(read: () => PoolUsage | null): void;
  /**
   * Checks Redis on each scrape for `gatehouse_redis_up` (1 answering, 0 not); until called
   * (the in-process store, with no Redis to lose) the gauge reports nothing.
   */
  observeRedis(check: () => Promise<boolean>): void;
}

// Seconds. Fine steps below 50 ms (token, introspection, discovery), coarse above (argon2 sign-ins).
const DURATION_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  // Node's own series (CPU, RSS, heap, GC, event-loop lag, handles): collected on scrape,
  // except the event-loop delay histogram and GC observer, which cost nothing per request.
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  let readPool: () => PoolUsage | null = () => null;
  const poolGauge = (name: string, help: string, pick: (usage: PoolUsage) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const usage = readPool();
        if (usage) this.set(pick(usage));
      },
    });
  poolGauge('gatehouse_db_pool_connections', "Open database connections in this process's pool", (u) => u.total);
  poolGauge('gatehouse_db_pool_idle_connections', 'Open database connections not in use', (u) => u.idle);
  poolGauge('gatehouse_db_pool_waiting_requests', 'Queries waiting for a free database connection', (u) => u.waiting);
  let checkRedis: (() => Promise<boolean>) | null = null;
  // Registered only once there is a Redis to watch: an unset gauge would read 0, "down".
  const redisGauge = () =>
    new Gauge({
      name: 'gatehouse_redis_up',
      help: 'Whether Redis answers (0: degraded, limits and lockouts count in process)',
      registers: [registry],
      async collect() {
        if (checkRedis) this.set((await checkRedis()) ? 1 : 0);
      },
    });
  return {
    registry,
    rateLimitHits: new Counter({
      name: 'gatehouse_rate_limit_hits_total',
      help: 'Requests refused by a rate limit',
      labelNames: ['policy'],
      registers: [registry],
    }),
    lockouts: new Counter({
      name: 'gatehouse_lockouts_total',
      help: 'Sign-in back-offs started after repeated failures',
      labelNames: ['factor'],
      registers: [registry],
    }),
    limiterFallbacks: new Counter({
      name: 'gatehouse_limiter_redis_fallbacks_total',
      help: 'Limiter operations served by in-process counters while Redis was unavailable',
      registers: [registry],
    }),
    httpRequestDuration: new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'HTTP request duration by route template',
      labelNames: ['route', 'method', 'status_class'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    tokensIssued: new Counter({
      name: 'gatehouse_tokens_issued_total',
      help: 'Successful token endpoint responses by grant type',
      labelNames: ['grant_type'],
      registers: [registry],
    }),
    signIns: new Counter({
      name: 'gatehouse_sign_ins_total',
      help: 'First-factor sign-in attempts by method and result',
      labelNames: ['method', 'result'],
      registers: [registry],
    }),
    secondFactors: new Counter({
      name: 'gatehouse_second_factor_checks_total',
      help: 'Second-factor checks by method and result',
      labelNames: ['method', 'result'],
      registers: [registry],
    }),
    codeDeliveries: new Counter({
      name: 'gatehouse_code_deliveries_total',
      help: 'Codes and sign-in links handed to a transport, by channel, transport and result',
      labelNames: ['channel', 'transport', 'result'],
      registers: [registry],
    }),
    refreshTokenReuse: new Counter({
      name: 'gatehouse_refresh_token_reuse_total',
      help: 'Rotated refresh tokens presented again (grant revoked)',
      registers: [registry],
    }),
    observePool(read) {
      readPool = read;
    },
    observeRedis(check) {
      if (!checkRedis) redisGauge();
      checkRedis = check;
    },
  };
}

/** The current value of a counter (summed over labels, or for one label set): for tests and the console. */
export async function counterValue(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([name, value]) => v.labels[name] === value))
    .reduce((sum, v) => sum + v.value, 0);
}
