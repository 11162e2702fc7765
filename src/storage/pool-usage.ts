import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/** The pg Pool's own counters (pg-pool: totalCount, idleCount, waitingCount). */
interface PgPoolCounters {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

function isPgPool(pool: unknown): pool is PgPoolCounters {
  return typeof pool === 'object' && pool !== null && typeof (pool as PgPoolCounters).totalCount === 'number';
}

/**
 * Reads the connection pool's usage from TypeORM's PostgreSQL driver, cheaply (three
 * properties), for the metrics gauges; null before the pool exists or after it closed.
 */
export function poolUsageOf(dataSource: DataSource): () => { total: number; idle: number; waiting: number } | null {
  return () => {
    if (!dataSource.isInitialized) return null;
    const pool: unknown = (dataSource.driver as PostgresDriver).master;
    if (!isPgPool(pool)) return null;
    return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
  };
}
