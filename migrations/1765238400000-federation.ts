import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sign-in through upstream identity providers (issue 17): the connections an admin
 * configures and the upstream identities linked to users. An identity goes with its user and
 * with its connection; one upstream subject of a connection names one user.
 */
export class Federation1765238400000 implements MigrationInterface {
  name = 'Federation1765238400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE "connections" (
      "id" varchar(64) NOT NULL,
      "display_name" varchar(100) NOT NULL,
      "kind" varchar(16) NOT NULL,
      "preset" varchar(32),
      "enabled" boolean NOT NULL DEFAULT true,
      "position" integer NOT NULL DEFAULT 0,
      "settings" jsonb NOT NULL DEFAULT '{}',
      "secret_sealed" text,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "connections_pk" PRIMARY KEY ("id")
    )`);
    await db.query(`CREATE TABLE "user_identities" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "connection_id" varchar(64) NOT NULL,
      "subject" varchar(255) NOT NULL,
      "user_id" uuid NOT NULL,
      "email" varchar(320),
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "last_used_at" timestamptz,
      CONSTRAINT "user_identities_pk" PRIMARY KEY ("id"),
      CONSTRAINT "user_identities_user_fk" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE,
      CONSTRAINT "user_identities_connection_fk" FOREIGN KEY ("connection_id") REFERENCES "connections" ("id") ON DELETE CASCADE
    )`);
    await db.query('CREATE UNIQUE INDEX "user_identities_subject" ON "user_identities" ("connection_id", "subject")');
    await db.query('CREATE INDEX "user_identities_user" ON "user_identities" ("user_id")');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE "user_identities"');
    await db.query('DROP TABLE "connections"');
  }
}
