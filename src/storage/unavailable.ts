/**
 * Whether an error means "the database cannot answer now" rather than "this request is
 * wrong" or "our code is wrong". Such a request may succeed when retried later, so the
 * error handler answers 503 with Retry-After instead of 500 (docs/operations.md, Failures).
 */

// Socket-level failures from node:net while connecting or mid-query.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

// SQLSTATEs (PostgreSQL Appendix A) of a server that is going away, starting, overloaded or
// cancelled our statement at its timeout: class 08 (connection exception) is matched by prefix.
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: pg_ctl stop -m fast / smart ended our connection
  '57P02', // crash_shutdown: another backend crashed, the server restarts
  '57P03', // cannot_connect_now: the server is starting up or shutting down
  '53300', // too_many_connections
  '57014', // query_canceled: statement_timeout
  '25006', // read_only_sql_transaction: a failover left us on a standby
]);

// node-postgres and pg-pool report these without a code (pg/lib/client.js, pg-pool/index.js).
const DRIVER_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'is not queryable',
];

interface Inspectable {
  code?: unknown;
  message?: unknown;
  /** TypeORM's QueryFailedError keeps the driver's error here. */
  driverError?: unknown;
  cause?: unknown;
  /** Node reports a failed connect to each address of a host name as one AggregateError. */
  errors?: unknown;
}

function causes(error: Inspectable): unknown[] {
  return [error.driverError, error.cause, ...(Array.isArray(error.errors) ? error.errors : [])];
}

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const candidate = error as Inspectable;
  if (typeof candidate.code === 'string') {
    if (
      NETWORK_CODES.has(candidate.code) ||
      UNAVAILABLE_SQLSTATES.has(candidate.code) ||
      /^08[0-9A-Z]{3}$/.test(candidate.code)
    )
      return true;
  }
  if (
    typeof candidate.message === 'string' &&
    DRIVER_MESSAGES.some((text) => (candidate.message as string).includes(text))
  )
    return true;
  return causes(candidate).some((cause) => isDatabaseUnavailable(cause, depth + 1));
}
