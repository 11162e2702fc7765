import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The second factor a user chose to be asked for first (issue 18): one row per user who chose,
 * beside `code_factors` rather than a column of `users`, because only the factor pages read it
 * and the choice is void once its factor is gone (the domain then ignores it).
 */
export class DefaultSecondFactor1765584000000 implements MigrationInterface {
  name = 'DefaultSecondFactor1765584000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE "default_second_factors" (
      "user_id" uuid NOT NULL,
      "method" varchar(16) NOT NULL,
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "default_second_factors_pk" PRIMARY KEY ("user_id"),
      CONSTRAINT "default_second_factors_user_fk" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
    )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE "default_second_factors"');
  }
}
