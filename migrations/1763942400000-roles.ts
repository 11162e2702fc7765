import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Roles and their assignment to users; the `roles` scope puts a user's role names in tokens. */
export class Roles1763942400000 implements MigrationInterface {
  name = 'Roles1763942400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE "roles" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "name" varchar(100) NOT NULL,
      "description" varchar(500),
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_roles" PRIMARY KEY ("id"))`);
    await db.query(`CREATE UNIQUE INDEX "roles_name" ON "roles" ("name")`);

    await db.query(`CREATE TABLE "user_roles" (
      "user_id" uuid NOT NULL,
      "role_id" uuid NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_user_roles" PRIMARY KEY ("user_id", "role_id"),
      CONSTRAINT "user_roles_user_fk" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE,
      CONSTRAINT "user_roles_role_fk" FOREIGN KEY ("role_id") REFERENCES "roles" ("id") ON DELETE CASCADE)`);
    await db.query(`CREATE INDEX "user_roles_role_id" ON "user_roles" ("role_id")`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE "user_roles"');
    await db.query('DROP TABLE "roles"');
  }
}
