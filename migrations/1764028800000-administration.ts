import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Administration: a client's approval status and where it came from (an admin, or dynamic
 * registration, RFC 7591), and audit events that name the client and the request they belong
 * to, with the indexes the admin API's audit queries and the retention sweep use.
 */
export class Administration1764028800000 implements MigrationInterface {
  name = 'Administration1764028800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE "clients" ADD "status" varchar(16) NOT NULL DEFAULT 'active'`);
    await db.query(`ALTER TABLE "clients" ADD "source" varchar(16) NOT NULL DEFAULT 'admin'`);
    await db.query(`CREATE INDEX "clients_status" ON "clients" ("status")`);

    await db.query(`ALTER TABLE "audit_events" ADD "client_id" varchar(255)`);
    await db.query(`ALTER TABLE "audit_events" ADD "request_id" varchar(64)`);
    await db.query(`CREATE INDEX "audit_events_time" ON "audit_events" ("created_at")`);
    await db.query(`CREATE INDEX "audit_events_actor_time" ON "audit_events" ("actor_id", "created_at")`);
    await db.query(`CREATE INDEX "audit_events_client_time" ON "audit_events" ("client_id", "created_at")`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX "audit_events_client_time"');
    await db.query('DROP INDEX "audit_events_actor_time"');
    await db.query('DROP INDEX "audit_events_time"');
    await db.query('ALTER TABLE "audit_events" DROP COLUMN "request_id"');
    await db.query('ALTER TABLE "audit_events" DROP COLUMN "client_id"');
    await db.query('DROP INDEX "clients_status"');
    await db.query('ALTER TABLE "clients" DROP COLUMN "source"');
    await db.query('ALTER TABLE "clients" DROP COLUMN "status"');
  }
}
