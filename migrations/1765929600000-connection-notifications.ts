import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every committed change to `connections` is announced on `gatehouse_changes` like those of the
 * tables in 1765843200000-change-notifications.ts (same functions): each server keeps the list of
 * connections that every sign-in page reads and drops it on any of them (docs/decisions.md, "Rows
 * kept in memory"). The list reads no other table.
 */
export class ConnectionNotifications1765929600000 implements MigrationInterface {
  name = 'ConnectionNotifications1765929600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TRIGGER "connections_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "connections"
      FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_row_change()`);
    await db.query(`CREATE TRIGGER "connections_notify_truncate" AFTER TRUNCATE ON "connections"
      FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_notify_truncate()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER "connections_notify_truncate" ON "connections"`);
    await db.query(`DROP TRIGGER "connections_notify_change" ON "connections"`);
  }
}
