import type { MigrationInterface, QueryRunner } from 'typeorm';
import { BEARER_MODELS } from '../src/security/token-digest.js';
import { migrationContextOf } from '../src/storage/migration-context.js';
import { REFERENCE_FIELD, referenceOf } from '../src/storage/initial-access-token-reference.js';

/** Rows re-keyed per statement: bounded parameters, few round trips. */
const BATCH = 1000;

/**
 * Bearer tokens stored before this release are keyed by their value (issue 14 §2). They are
 * re-keyed under their digest, not ended: refresh tokens, registration access tokens and
 * initial access tokens outlive an upgrade by design, and ending them would sign every RP's
 * offline access out and strand dynamically registered clients (docs/storage.md).
 * The digest needs the key-encryption secret, which the server and `gatehouse migrate` hand
 * over (storage/migration-context.ts); with no such rows (a new installation) none is needed.
 */
export class TokenDigests1765065600000 implements MigrationInterface {
  name = 'TokenDigests1765065600000';

  async up(db: QueryRunner): Promise<void> {
    const models = [...BEARER_MODELS];
    const rows = (await db.query('SELECT model, id FROM oidc_payloads WHERE model = ANY($1::text[])', [
      models,
    ])) as Array<{ model: string; id: string }>;
    if (rows.length === 0) return;
    const { tokenDigest } = migrationContextOf(db.connection);
    if (!tokenDigest)
      throw new Error(
        're-keying stored tokens needs the key-encryption secret: run migrations through gatehouse (server or `gatehouse migrate`)',
      );
    for (let start = 0; start < rows.length; start += BATCH) {
      const batch = rows.slice(start, start + BATCH);
      await db.query(
        `
        UPDATE oidc_payloads o
        SET id = v.stored_id,
            payload = (o.payload - 'jti') || CASE WHEN o.model = 'InitialAccessToken' THEN jsonb_build_object($5::text, v.reference) ELSE '{}'::jsonb END
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS v(model, id, stored_id, reference)
        WHERE o.model = v.model AND o.id = v.id`,
        [
          batch.map((r) => r.model),
          batch.map((r) => r.id),
          batch.map((r) => tokenDigest.storedId(r.model, r.id)),
          batch.map((r) => referenceOf(r.id)),
          REFERENCE_FIELD,
        ],
      );
    }
  }

  async down(): Promise<void> {
    // A digest cannot be turned back into the token: the rows stay as they are.
  }
}
