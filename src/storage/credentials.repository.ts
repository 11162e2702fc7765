import { In, type EntityManager } from 'typeorm';
import { CredentialEntity, type CredentialRow, type CredentialType } from './entities/credential.entity.js';
import { runSql } from './data-source.js';

const SECOND_FACTOR_TYPES: CredentialType[] = ['totp', 'webauthn', 'recovery_code'];

export interface NewWebAuthnCredential {
  userId: string;
  credentialId: string;
  publicKey: string;
  label: string;
  data: Record<string, unknown>;
}

/** Second-factor credentials: TOTP seeds (sealed), WebAuthn public keys, recovery-code hashes. */
export function createCredentialsRepository(db: EntityManager) {
  const credentials = db.getRepository(CredentialEntity);

  return {
    /** Every second factor of a user, for the account page and the sign-in step. */
    listSecondFactors: (userId: string) =>
      credentials.find({
        where: { userId, type: In(SECOND_FACTOR_TYPES) },
        order: { createdAt: 'ASC' },
      }),

    findTotp: (userId: string) => credentials.findOneBy({ userId, type: 'totp' }),

    /** Replaces any earlier authenticator app: one TOTP secret per user. */
    async setTotp(userId: string, sealedSecret: string): Promise<CredentialRow> {
      return db.transaction(async (tx) => {
        const repo = tx.getRepository(CredentialEntity);
        await repo.delete({ userId, type: 'totp' });
        return repo.save({ userId, type: 'totp', secret: sealedSecret, data: {}, label: 'Authenticator app' });
      });
    },

    /**
     * Records the time step of an accepted TOTP code, only if it is newer than the last one:
     * an atomic compare-and-set, so a code is accepted once across all replicas (RFC 6238 §5.2).
     */
    async advanceTotpStep(credentialId: string, step: number): Promise<boolean> {
      const { affected } = await runSql(
        db,
        `
        UPDATE credentials SET data = jsonb_set(data, '{lastStep}', to_jsonb($2::bigint)), last_used_at = now()
        WHERE id = $1 AND type = 'totp' AND coalesce((data->>'lastStep')::bigint, -1) < $2::bigint`,
        [credentialId, step],
      );
      return affected === 1;
    },

    /** New recovery codes void the old ones, atomically. */
    async replaceRecoveryCodes(userId: string, hashes: string[]): Promise<void> {
      await db.transaction(async (tx) => {
        const repo = tx.getRepository(CredentialEntity);
        await repo.delete({ userId, type: 'recovery_code' });
        await repo.save(hashes.map((secret) => ({ userId, type: 'recovery_code' as const, secret, data: {} })));
      });
    },

    /** Uses up a recovery code; true only for the one caller that deleted it. */
    async consumeRecoveryCode(userId: string, hash: string): Promise<boolean> {
      const { affected } = await runSql(
        db,
        "DELETE FROM credentials WHERE user_id = $1 AND type = 'recovery_code' AND secret = $2",
        [userId, hash],
      );
      return affected === 1;
    },

    countRecoveryCodes: (userId: string) => credentials.countBy({ userId, type: 'recovery_code' }),

    async addWebAuthn(input: NewWebAuthnCredential): Promise<CredentialRow> {
      return credentials.save({
        userId: input.userId,
        type: 'webauthn',
        secret: input.publicKey,
        externalId: input.credentialId,
        label: input.label,
        data: input.data,
      });
    },

    findWebAuthn: (credentialId: string) => credentials.findOneBy({ type: 'webauthn', externalId: credentialId }),

    listWebAuthn: (userId: string) =>
      credentials.find({ where: { userId, type: 'webauthn' }, order: { createdAt: 'ASC' } }),

    /** Stores the new signature counter only if it moved forward (or both are 0). */
    async advanceWebAuthnCounter(id: string, counter: number, data: Record<string, unknown>): Promise<boolean> {
      const { affected } = await runSql(
        db,
        `
        UPDATE credentials SET data = data || $3::jsonb, last_used_at = now()
        WHERE id = $1 AND type = 'webauthn'
          AND ($2::bigint = 0 AND coalesce((data->>'counter')::bigint, 0) = 0 OR coalesce((data->>'counter')::bigint, 0) < $2::bigint)`,
        [id, counter, JSON.stringify({ ...data, counter })],
      );
      return affected === 1;
    },

    async rename(userId: string, id: string, label: string): Promise<boolean> {
      const result = await credentials.update({ id, userId, type: In(['webauthn', 'totp']) }, { label });
      return (result.affected ?? 0) > 0;
    },

    async deleteSecondFactor(userId: string, id: string): Promise<CredentialRow | null> {
      const row = await credentials.findOneBy({ id, userId, type: In(['webauthn', 'totp']) });
      if (!row) return null;
      await credentials.delete({ id: row.id });
      return row;
    },

    /** Removes every second factor of a locked-out user; returns how many. */
    async deleteSecondFactors(userId: string): Promise<number> {
      const result = await credentials.delete({ userId, type: In(SECOND_FACTOR_TYPES) });
      return result.affected ?? 0;
    },
  };
}

export type CredentialsRepository = ReturnType<typeof createCredentialsRepository>;
