import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, credentials, clients, signing keys and the oidc-provider model table. */
export class InitialSchema1763769600000 implements MigrationInterface {
  name = 'InitialSchema1763769600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE "oidc_payloads" (
      "model" varchar(64) NOT NULL,
      "id" varchar(255) NOT NULL,
      "payload" jsonb NOT NULL,
      "grant_id" varchar(255),
      "user_code" varchar(255),
      "uid" varchar(255),
      "account_id" varchar(255),
      "expires_at" timestamptz,
      "consumed_at" timestamptz,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_oidc_payloads" PRIMARY KEY ("model", "id"))`);
    await db.query(`CREATE INDEX "oidc_payloads_grant_id" ON "oidc_payloads" ("grant_id") WHERE grant_id IS NOT NULL`);
    await db.query(`CREATE UNIQUE INDEX "oidc_payloads_uid" ON "oidc_payloads" ("model", "uid") WHERE uid IS NOT NULL`);
    await db.query(
      `CREATE UNIQUE INDEX "oidc_payloads_user_code" ON "oidc_payloads" ("model", "user_code") WHERE user_code IS NOT NULL`,
    );
    await db.query(
      `CREATE INDEX "oidc_payloads_account_id" ON "oidc_payloads" ("account_id", "model") WHERE account_id IS NOT NULL`,
    );
    await db.query(
      `CREATE INDEX "oidc_payloads_expires_at" ON "oidc_payloads" ("expires_at") WHERE expires_at IS NOT NULL`,
    );

    await db.query(`CREATE TABLE "users" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "email" varchar(320) NOT NULL,
      "email_normalized" varchar(320) NOT NULL,
      "name" varchar(200),
      "email_verified" boolean NOT NULL DEFAULT false,
      "disabled_at" timestamptz,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_users" PRIMARY KEY ("id"))`);
    await db.query(`CREATE UNIQUE INDEX "users_email_normalized" ON "users" ("email_normalized")`);

    await db.query(`CREATE TABLE "credentials" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "user_id" uuid NOT NULL,
      "type" varchar(32) NOT NULL,
      "secret" text NOT NULL,
      "data" jsonb NOT NULL DEFAULT '{}',
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "last_used_at" timestamptz,
      CONSTRAINT "PK_credentials" PRIMARY KEY ("id"),
      CONSTRAINT "credentials_user_fk" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE)`);
    await db.query(`CREATE INDEX "credentials_user_type" ON "credentials" ("user_id", "type")`);
    await db.query(
      `CREATE UNIQUE INDEX "credentials_one_password" ON "credentials" ("user_id") WHERE type = 'password'`,
    );

    await db.query(`CREATE TABLE "clients" (
      "id" varchar(255) NOT NULL,
      "name" varchar(200) NOT NULL,
      "secret_hash" varchar(255),
      "first_party" boolean NOT NULL DEFAULT false,
      "metadata" jsonb NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_clients" PRIMARY KEY ("id"))`);

    await db.query(`CREATE TABLE "signing_keys" (
      "id" varchar(64) NOT NULL,
      "use" varchar(16) NOT NULL,
      "alg" varchar(16) NOT NULL,
      "state" varchar(16) NOT NULL,
      "public_jwk" jsonb,
      "private_encrypted" text NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "retired_at" timestamptz,
      "expires_at" timestamptz,
      CONSTRAINT "PK_signing_keys" PRIMARY KEY ("id"))`);
    await db.query(`CREATE INDEX "signing_keys_use_state" ON "signing_keys" ("use", "state")`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE "signing_keys"');
    await db.query('DROP TABLE "clients"');
    await db.query('DROP TABLE "credentials"');
    await db.query('DROP TABLE "users"');
    await db.query('DROP TABLE "oidc_payloads"');
  }
}
