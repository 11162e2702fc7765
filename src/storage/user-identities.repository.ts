import type { EntityManager } from 'typeorm';
import { isUniqueViolation } from './unique-violation.js';
import { UserIdentityEntity, type UserIdentityRow } from './entities/user-identity.entity.js';
import { isTextId, isUuid } from './ids.js';

export class IdentityTakenError extends Error {
  constructor() {
    super('this upstream identity is linked to an account');
    this.name = 'IdentityTakenError';
  }
}

/** Upstream identities linked to users (issue 17). */
export function createUserIdentitiesRepository(db: EntityManager) {
  const identities = db.getRepository(UserIdentityEntity);
  return {
    find: async (connectionId: string, subject: string): Promise<UserIdentityRow | null> =>
      isTextId(connectionId) && isTextId(subject) ? identities.findOneBy({ connectionId, subject }) : null,

    /** A user's identities, oldest first. */
    listForUser: async (userId: string): Promise<UserIdentityRow[]> =>
      isUuid(userId) ? identities.find({ where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } }) : [],

    countForUser: async (userId: string): Promise<number> => (isUuid(userId) ? identities.countBy({ userId }) : 0),

    /** Links the identity; IdentityTakenError when that subject of that connection is linked already. */
    async link(input: {
      connectionId: string;
      subject: string;
      userId: string;
      email: string | null;
    }): Promise<UserIdentityRow> {
      try {
        await identities.insert({ ...input, lastUsedAt: new Date() });
      } catch (error) {
        if (isUniqueViolation(error)) throw new IdentityTakenError();
        throw error;
      }
      return identities.findOneByOrFail({ connectionId: input.connectionId, subject: input.subject });
    },

    async markUsed(id: string): Promise<void> {
      await identities.update({ id }, { lastUsedAt: new Date() });
    },

    /** Removes the user's identity at that connection; false when there was none. */
    async unlink(userId: string, connectionId: string): Promise<boolean> {
      if (!isUuid(userId) || !isTextId(connectionId)) return false;
      return ((await identities.delete({ userId, connectionId })).affected ?? 0) > 0;
    },
  };
}
