import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The standard profile claims of OIDC Core §5.1 besides name and email (issue 19): given and
 * family name, preferred username, picture, locale, zoneinfo, birthdate and the structured
 * address, in one jsonb document per user. They are read whole (the claims of a token, the
 * profile form) and never searched, so one column validated by the accounts domain
 * (src/accounts/profile.ts) beats eight (docs/decisions.md, "Profile claims").
 */
export class ProfileClaims1765497600000 implements MigrationInterface {
  name = 'ProfileClaims1765497600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE "users" ADD COLUMN "profile" jsonb NOT NULL DEFAULT '{}'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE "users" DROP COLUMN "profile"`);
  }
}
