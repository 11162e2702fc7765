import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API permissions (issue 19, "Tokens for APIs"): resources defined by admins, their named
 * permissions, which roles and which machine clients hold them, and each client's token
 * exchange policy (RFC 8693). Resources in `config.resources` stay in config (scopes only);
 * these are the ones with permissions (docs/decisions.md, "Permissions").
 */
export class Permissions1765670400000 implements MigrationInterface {
  name = 'Permissions1765670400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE "api_resources" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "indicator" varchar(2000) NOT NULL,
      "name" varchar(200) NOT NULL,
      "audience" varchar(2000),
      "access_token_ttl" integer NOT NULL,
      "permissions_claim" boolean NOT NULL DEFAULT false,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_api_resources" PRIMARY KEY ("id"))`);
    await db.query(`CREATE UNIQUE INDEX "api_resources_indicator" ON "api_resources" ("indicator")`);

    await db.query(`CREATE TABLE "permissions" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "resource_id" uuid NOT NULL,
      "name" varchar(100) NOT NULL,
      "description" varchar(500),
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_permissions" PRIMARY KEY ("id"),
      CONSTRAINT "permissions_resource_fk" FOREIGN KEY ("resource_id") REFERENCES "api_resources" ("id") ON DELETE CASCADE)`);
    await db.query(`CREATE UNIQUE INDEX "permissions_resource_name" ON "permissions" ("resource_id", "name")`);

    // Token time reads "the permissions of these roles (or this client) on this resource".
    await db.query(`CREATE TABLE "role_permissions" (
      "role_id" uuid NOT NULL,
      "permission_id" uuid NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_role_permissions" PRIMARY KEY ("role_id", "permission_id"),
      CONSTRAINT "role_permissions_role_fk" FOREIGN KEY ("role_id") REFERENCES "roles" ("id") ON DELETE CASCADE,
      CONSTRAINT "role_permissions_permission_fk" FOREIGN KEY ("permission_id") REFERENCES "permissions" ("id") ON DELETE CASCADE)`);
    await db.query(`CREATE INDEX "role_permissions_permission_id" ON "role_permissions" ("permission_id")`);

    await db.query(`CREATE TABLE "client_permissions" (
      "client_id" varchar(255) NOT NULL,
      "permission_id" uuid NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_client_permissions" PRIMARY KEY ("client_id", "permission_id"),
      CONSTRAINT "client_permissions_client_fk" FOREIGN KEY ("client_id") REFERENCES "clients" ("id") ON DELETE CASCADE,
      CONSTRAINT "client_permissions_permission_fk" FOREIGN KEY ("permission_id") REFERENCES "permissions" ("id") ON DELETE CASCADE)`);
    await db.query(`CREATE INDEX "client_permissions_permission_id" ON "client_permissions" ("permission_id")`);

    // Indicators, not foreign keys: a deleted resource is simply no longer a target (the
    // exchange checks it exists), and a policy reads as what the admin typed.
    await db.query(`CREATE TABLE "token_exchange_policies" (
      "client_id" varchar(255) NOT NULL,
      "targets" text[] NOT NULL,
      "subject_audiences" text[] NOT NULL DEFAULT '{}',
      "subject_token_types" text[] NOT NULL,
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_token_exchange_policies" PRIMARY KEY ("client_id"),
      CONSTRAINT "token_exchange_policies_client_fk" FOREIGN KEY ("client_id") REFERENCES "clients" ("id") ON DELETE CASCADE)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE "token_exchange_policies"');
    await db.query('DROP TABLE "client_permissions"');
    await db.query('DROP TABLE "role_permissions"');
    await db.query('DROP TABLE "permissions"');
    await db.query('DROP TABLE "api_resources"');
  }
}
