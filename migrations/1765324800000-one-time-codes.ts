import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Codes by email and SMS (issue 18): the one-time codes and sign-in links sent (each stored as
 * keyed digests only, with its attempts and its expiry), a user's phone number (the
 * `phone_number` claims) and the code second factors a user turned on.
 */
export class OneTimeCodes1765324800000 implements MigrationInterface {
  name = 'OneTimeCodes1765324800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE "one_time_codes" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "purpose" varchar(32) NOT NULL,
      "channel" varchar(8) NOT NULL,
      "subject" varchar(64) NOT NULL,
      "user_id" uuid,
      "code_digest" varchar(64),
      "link_digest" varchar(64),
      "browser_digest" varchar(64),
      "attempts" integer NOT NULL DEFAULT 0,
      "data" jsonb NOT NULL DEFAULT '{}',
      "expires_at" timestamptz NOT NULL,
      "consumed_at" timestamptz,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "one_time_codes_pk" PRIMARY KEY ("id"),
      CONSTRAINT "one_time_codes_user_fk" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
    )`);
    await db.query('CREATE INDEX "one_time_codes_subject" ON "one_time_codes" ("purpose", "subject")');
    await db.query(
      'CREATE UNIQUE INDEX "one_time_codes_link" ON "one_time_codes" ("link_digest") WHERE link_digest IS NOT NULL',
    );
    await db.query('CREATE INDEX "one_time_codes_expiry" ON "one_time_codes" ("expires_at")');
    await db.query(`CREATE TABLE "user_phones" (
      "user_id" uuid NOT NULL,
      "phone_number" varchar(16) NOT NULL,
      "verified" boolean NOT NULL DEFAULT false,
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "user_phones_pk" PRIMARY KEY ("user_id"),
      CONSTRAINT "user_phones_user_fk" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
    )`);
    await db.query('CREATE INDEX "user_phones_number" ON "user_phones" ("phone_number")');
    await db.query(`CREATE TABLE "code_factors" (
      "user_id" uuid NOT NULL,
      "channel" varchar(8) NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "code_factors_pk" PRIMARY KEY ("user_id", "channel"),
      CONSTRAINT "code_factors_user_fk" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
    )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE "code_factors"');
    await db.query('DROP TABLE "user_phones"');
    await db.query('DROP TABLE "one_time_codes"');
  }
}
