import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a user allowed a third-party client, kept apart from oidc-provider's Grants (issue 15
 * §7): a Grant belongs to one browser session and is deleted when that session ends
 * (RP-initiated logout, sign out), so consent read from live grants was forgotten at the
 * first logout. One row per (user, client), deleted with either, and by withdrawing consent.
 * Consent already given is carried over from the live grants of third-party clients.
 */
export class Consents1765152000000 implements MigrationInterface {
  name = 'Consents1765152000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE "consents" (
      "account_id" uuid NOT NULL,
      "client_id" varchar(255) NOT NULL,
      "scope" text NOT NULL DEFAULT '',
      "claims" jsonb NOT NULL DEFAULT '[]',
      "resource_scopes" jsonb NOT NULL DEFAULT '{}',
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "consents_pk" PRIMARY KEY ("account_id", "client_id"),
      CONSTRAINT "consents_user_fk" FOREIGN KEY ("account_id") REFERENCES "users" ("id") ON DELETE CASCADE,
      CONSTRAINT "consents_client_fk" FOREIGN KEY ("client_id") REFERENCES "clients" ("id") ON DELETE CASCADE
    )`);
    // The newest live grant of each (user, third-party client) pair is what was consented to.
    await db.query(`
      INSERT INTO "consents" ("account_id", "client_id", "scope", "claims", "resource_scopes", "created_at", "updated_at")
      SELECT DISTINCT ON (u.id, c.id) u.id, c.id,
             COALESCE(g.payload#>>'{openid,scope}', ''), COALESCE(g.payload#>'{openid,claims}', '[]'::jsonb),
             COALESCE(g.payload->'resources', '{}'::jsonb),
             g.created_at, g.created_at
      FROM "oidc_payloads" g
      JOIN "users" u ON u.id::text = g.account_id
      JOIN "clients" c ON c.id = g.payload->>'clientId' AND NOT c.first_party
      WHERE g.model = 'Grant' AND (g.expires_at IS NULL OR g.expires_at > now())
      ORDER BY u.id, c.id, g.created_at DESC`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE "consents"');
  }
}
