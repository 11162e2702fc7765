import type { DataSource } from 'typeorm';
import type { TokenDigest } from '../security/token-digest.js';

/**
 * What a migration may need beyond SQL: TypeORM hands a migration only its query runner, and
 * re-keying stored tokens needs the key-encryption secret, which never enters the database.
 */
export interface MigrationContext {
  tokenDigest?: TokenDigest;
}

const contexts = new WeakMap<DataSource, MigrationContext>();

export function setMigrationContext(dataSource: DataSource, context: MigrationContext): void {
  contexts.set(dataSource, context);
}

export function migrationContextOf(dataSource: DataSource): MigrationContext {
  return contexts.get(dataSource) ?? {};
}
