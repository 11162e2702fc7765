import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Second factors: a credential gets an external id (WebAuthn credential id, looked up for
 * username-less sign-in) and a user-given label; security events go to audit_events.
 */
export class SecondFactors1763856000000 implements MigrationInterface {
  name = 'SecondFactors1763856000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE "credentials" ADD "external_id" varchar(1024)`);
    await db.query(`ALTER TABLE "credentials" ADD "label" varchar(100)`);
    await db.query(
      `CREATE UNIQUE INDEX "credentials_external_id" ON "credentials" ("type", "external_id") WHERE external_id IS NOT NULL`,
    );

    await db.query(`CREATE TABLE "audit_events" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "actor_id" uuid,
      "subject_id" uuid,
      "action" varchar(64) NOT NULL,
      "ip" varchar(64),
      "user_agent" varchar(512),
      "details" jsonb NOT NULL DEFAULT '{}',
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_audit_events" PRIMARY KEY ("id"))`);
    await db.query(`CREATE INDEX "audit_events_subject_time" ON "audit_events" ("subject_id", "created_at")`);
    await db.query(`CREATE INDEX "audit_events_action_time" ON "audit_events" ("action", "created_at")`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE "audit_events"');
    await db.query('DROP INDEX "credentials_external_id"');
    await db.query('ALTER TABLE "credentials" DROP COLUMN "label"');
    await db.query('ALTER TABLE "credentials" DROP COLUMN "external_id"');
  }
}
