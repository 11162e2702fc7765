import { createHash } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { allMigrations } from '../../migrations/index.js';
import { OidcPayloadEntity } from './entities/oidc-payload.entity.js';
import { UserEntity } from './entities/user.entity.js';
import { CredentialEntity } from './entities/credential.entity.js';
import { ClientEntity } from './entities/client.entity.js';
import { SigningKeyEntity } from './entities/signing-key.entity.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';
import { RoleEntity, UserRoleEntity } from './entities/role.entity.js';
import { AccountLinkEntity } from './entities/account-link.entity.js';
import { ConsentEntity } from './entities/consent.entity.js';
import { ConnectionEntity } from './entities/connection.entity.js';
import { UserIdentityEntity } from './entities/user-identity.entity.js';
import type { SocketConnection } from './embedded-postgres.js';
import { deferWrite } from './batched-transaction.js';

const allEntities = [
  OidcPayloadEntity,
  UserEntity,
  CredentialEntity,
  ClientEntity,
  SigningKeyEntity,
  AuditEventEntity,
  RoleEntity,
  UserRoleEntity,
  AccountLinkEntity,
  ConsentEntity,
  ConnectionEntity,
  UserIdentityEntity,
];

export type PgConnection = { url: string } | SocketConnection;

/**
 * How long the client waits for a statement beyond the server's own timeout: the server's
 * cancellation (57014, the connection stays usable) should come first; the client's only
 * when the server does not answer at all.
 */
const CLIENT_TIMEOUT_MARGIN_MS = 2000;

/**
 * Only a networked server is bounded: the embedded database runs in this process, where no
 * peer can go silent, and its wasm build keeps no timers to cancel a statement with.
 */
function statementTimeouts(connection: PgConnection, statementTimeoutSeconds: number | undefined) {
  if (!('url' in connection) || statementTimeoutSeconds === undefined) return {};
  const ms = statementTimeoutSeconds * 1000;
  return { statement_timeout: ms, query_timeout: ms + CLIENT_TIMEOUT_MARGIN_MS };
}

/**
 * DataSources whose statements from runSql run as named (prepared) statements: `shared` names
 * on PostgreSQL (each connection is its own session), `per-connection` names on the embedded
 * database, whose connections share one session (the socket server deallocates a closed
 * connection's statements).
 */
const preparing = new WeakMap<DataSource, PreparedNames>();
export type PreparedNames = 'shared' | 'per-connection';

/**
 * One DataSource shape for PostgreSQL and the embedded database: same entities, same migrations.
 * `prepared`: runSql's statements are named, so each connection parses and plans them once
 * (never on the embedded database: its connections share one session, where two connections
 * preparing the same name collide).
 */
export function createDataSource(
  connection: PgConnection,
  poolSize: number,
  options: {
    statementTimeoutSeconds?: number;
    /** Named statements: as PostgreSQL allows (`true`), or named per connection (the embedded database's owner). */
    prepared?: boolean | PreparedNames;
    /** How long to wait for a connection from the pool or the server (a test of the timeout waits less). */
    connectTimeoutMs?: number;
  } = {},
): DataSource {
  const { statementTimeoutSeconds, prepared = false, connectTimeoutMs = 5000 } = options;
  const target =
    'url' in connection
      ? { url: connection.url }
      : { host: connection.host, port: connection.port, username: 'postgres', database: 'postgres' };
  const dataSource = new DataSource({
    type: 'postgres',
    ...target,
    entities: allEntities,
    migrations: allMigrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: false,
    poolSize,
    extra: {
      // Fail a request instead of hanging when the pool or the server does not answer.
      connectionTimeoutMillis: connectTimeoutMs,
      ...statementTimeouts(connection, statementTimeoutSeconds),
    },
  });
  if (prepared === 'per-connection' && !('url' in connection)) preparing.set(dataSource, 'per-connection');
  else if (prepared && 'url' in connection) preparing.set(dataSource, 'shared');
  return dataSource;
}

// Any constant works; it only has to be the same in every Gatehouse process.
const MIGRATION_LOCK = 727_274_001;

/**
 * Applies pending migrations under a PostgreSQL advisory lock, so replicas that boot
 * together do not run the same migration twice. Returns the names applied.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

/** Pending migrations, for /readyz and the CLI. */
export async function hasPendingMigrations(dataSource: DataSource): Promise<boolean> {
  return dataSource.showMigrations();
}

export interface SqlResult<Row> {
  rows: Row[];
  affected: number;
}

/** What runSql needs of node-postgres: a pooled or a transaction's client, or the pool. */
interface PgQueryable {
  query(config: {
    name?: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/**
 * Statement names by text. Every runSql text is a template of the code (interpolations pick
 * among constants), so the set is small; the cap keeps a future dynamic text from growing
 * every connection's prepared statements without bound (past it, texts run unnamed).
 */
const statementNames = new Map<string, string>();
const MAX_NAMED_STATEMENTS = 500;

function nameOf(sql: string): string | undefined {
  const known = statementNames.get(sql);
  if (known || statementNames.size >= MAX_NAMED_STATEMENTS) return known;
  const name = `gh_${createHash('sha256').update(sql).digest('base64url').slice(0, 22)}`;
  statementNames.set(sql, name);
  return name;
}

/**
 * Runs a prepared statement on the transaction's connection or the pool, past TypeORM's query
 * wrapper (logging hooks, broadcaster, result wrapping): these are the statements every
 * protocol request runs. PostgreSQL's errors come through as node-postgres throws them, with
 * the SQLSTATE in `code` as isUniqueViolation and the unavailability checks read it.
 */
async function runPrepared<Row>(
  manager: EntityManager,
  sql: string,
  params: unknown[],
  name: string,
  names: PreparedNames,
  deferrable: boolean,
): Promise<SqlResult<Row>> {
  const runner = manager.queryRunner;
  const pool = (manager.connection.driver as unknown as { master: PgPool }).master;
  const run = async (target: PgQueryable, statement: string) => {
    const result = await target.query({ name: statement, text: sql, values: params });
    return { rows: result.rows as Row[], affected: result.rowCount ?? 0 };
  };
  if (runner) {
    const client = (await runner.connect()) as PgQueryable;
    const statement = names === 'shared' ? name : `${name}_${connectionTag(client)}`;
    if (deferrable && deferWrite(client, { name: statement, text: sql, values: params }))
      return { rows: [], affected: 0 };
    return run(client, statement);
  }
  if (names === 'shared') return run(pool, name);
  const client = await pool.connect();
  try {
    return await run(client, `${name}_${connectionTag(client)}`);
  } finally {
    client.release();
  }
}

/** A pool that lends a client for more than one statement. */
interface PgPool extends PgQueryable {
  connect(): Promise<PgQueryable & { release(): void }>;
}

/** A name per connection, unique across processes joining the same embedded session. */
const connectionTags = new WeakMap<object, string>();
let connectionsTagged = 0;
function connectionTag(client: object): string {
  let tag = connectionTags.get(client);
  if (!tag) {
    tag = `${process.pid}_${++connectionsTagged}`;
    connectionTags.set(client, tag);
  }
  return tag;
}

/**
 * Raw SQL for the few statements TypeORM's API cannot express atomically (upsert, compare-and-set).
 * `deferrable`: the caller reads nothing of the answer, so in a request transaction the statement
 * may travel with the transaction's next one (batched-transaction.ts); its failure fails that one.
 */
export async function runSql<Row>(
  db: DataSource | EntityManager,
  sql: string,
  params: unknown[],
  { deferrable = false }: { deferrable?: boolean } = {},
): Promise<SqlResult<Row>> {
  const manager = 'manager' in db ? db.manager : db;
  const names = preparing.get(manager.connection);
  const name = names ? nameOf(sql) : undefined;
  if (names && name && !manager.queryRunner?.isReleased)
    return runPrepared<Row>(manager, sql, params, name, names, deferrable);
  // Inside a transaction the statement runs on the transaction's connection.
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  try {
    const result = await runner.query(sql, params, true);
    return { rows: (result.records ?? []) as Row[], affected: result.affected ?? 0 };
  } finally {
    if (!manager.queryRunner) await runner.release();
  }
}
