import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a user registered themselves (null for accounts made by an administrator, the CLI or an
 * import): only self-registered accounts must verify their address before their first sign-in.
 */
export class SelfRegistration1764205200000 implements MigrationInterface {
  name = 'SelfRegistration1764205200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE "users" ADD COLUMN "self_registered_at" timestamptz');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE "users" DROP COLUMN "self_registered_at"');
  }
}
