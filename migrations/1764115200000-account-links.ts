import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Links sent by mail (email verification, password reset): only a digest of each link's secret
 * is stored, each can be used once, and a new link of the same purpose replaces older ones.
 */
export class AccountLinks1764115200000 implements MigrationInterface {
  name = 'AccountLinks1764115200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE "account_links" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "user_id" uuid NOT NULL,
      "purpose" varchar(32) NOT NULL,
      "token_digest" varchar(64) NOT NULL,
      "data" jsonb NOT NULL DEFAULT '{}',
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "expires_at" timestamptz NOT NULL,
      "consumed_at" timestamptz,
      CONSTRAINT "account_links_pk" PRIMARY KEY ("id"),
      CONSTRAINT "account_links_user_fk" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
    )`);
    await db.query(`CREATE UNIQUE INDEX "account_links_token" ON "account_links" ("token_digest")`);
    await db.query(`CREATE INDEX "account_links_user_purpose" ON "account_links" ("user_id", "purpose")`);
    await db.query(`CREATE INDEX "account_links_expires" ON "account_links" ("expires_at")`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE "account_links"');
  }
}
