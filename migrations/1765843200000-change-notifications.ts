import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The tables whose rows every protocol request reads and each process keeps in memory (src/storage/row-cache.ts). */
const FOLLOWED = ['clients', 'users', 'api_resources'] as const;

/**
 * Every committed change to a followed table is announced on the channel `gatehouse_changes`
 * as `<table>:<id>` (`<table>:*` for TRUNCATE). PostgreSQL delivers a notification only when
 * its transaction commits, to every listening session, whoever wrote: another replica, the
 * CLI, psql (docs/decisions.md, "Rows kept in memory"). Each process drops its copy on it.
 */
export class ChangeNotifications1765843200000 implements MigrationInterface {
  name = 'ChangeNotifications1765843200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE FUNCTION gatehouse_notify_row_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('gatehouse_changes', TG_TABLE_NAME || ':' || OLD.id);
        ELSE
          PERFORM pg_notify('gatehouse_changes', TG_TABLE_NAME || ':' || NEW.id);
          IF TG_OP = 'UPDATE' AND OLD.id IS DISTINCT FROM NEW.id THEN
            PERFORM pg_notify('gatehouse_changes', TG_TABLE_NAME || ':' || OLD.id);
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(`CREATE FUNCTION gatehouse_notify_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('gatehouse_changes', TG_TABLE_NAME || ':*');
        RETURN NULL;
      END $$`);
    for (const table of FOLLOWED) {
      await db.query(`CREATE TRIGGER "${table}_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "${table}"
        FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_row_change()`);
      await db.query(`CREATE TRIGGER "${table}_notify_truncate" AFTER TRUNCATE ON "${table}"
        FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_notify_truncate()`);
    }
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of FOLLOWED) {
      await db.query(`DROP TRIGGER "${table}_notify_truncate" ON "${table}"`);
      await db.query(`DROP TRIGGER "${table}_notify_change" ON "${table}"`);
    }
    await db.query(`DROP FUNCTION gatehouse_notify_truncate()`);
    await db.query(`DROP FUNCTION gatehouse_notify_row_change()`);
  }
}
