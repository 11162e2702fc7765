import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Custom user attributes (issue 19, "Identity"): the schema admins define (name, type,
 * required, who may edit, the scope that releases it) and each user's values, one jsonb
 * document per user beside `profile`: read whole (a token's claims, the forms), never searched,
 * validated by the accounts domain against the schema (docs/decisions.md, "Custom attributes").
 */
export class CustomAttributes1765756800000 implements MigrationInterface {
  name = 'CustomAttributes1765756800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE "attribute_definitions" (
      "name" varchar(64) NOT NULL,
      "label" varchar(200) NOT NULL,
      "type" varchar(16) NOT NULL,
      "required" boolean NOT NULL DEFAULT false,
      "editable_by" varchar(16) NOT NULL,
      "scope" varchar(32) NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_attribute_definitions" PRIMARY KEY ("name"),
      CONSTRAINT "attribute_definitions_type" CHECK ("type" IN ('string', 'number', 'boolean', 'date')),
      CONSTRAINT "attribute_definitions_editable_by" CHECK ("editable_by" IN ('admin', 'user')))`);
    await db.query(`ALTER TABLE "users" ADD COLUMN "attributes" jsonb NOT NULL DEFAULT '{}'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE "users" DROP COLUMN "attributes"`);
    await db.query(`DROP TABLE "attribute_definitions"`);
  }
}
