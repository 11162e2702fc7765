import type { Storage } from '../storage/storage.js';
import type { PairwiseSubjects } from '../security/pairwise-subject.js';
import { sectorOf } from '../clients/client-identity.js';
import { InvalidInputError, NotFoundError } from '../errors/domain-errors.js';

export interface SubjectMapping {
  clientId: string;
  subjectType: 'public' | 'pairwise';
  sub: string;
  userId: string;
}

/**
 * The `sub` a client sees for a user, both ways (OIDC Core §8.1): support staff get a pairwise
 * sub from an application's logs and need the user, or the reverse. A sub that is not one of
 * the client's is NotFoundError, like an unknown user.
 */
export function createSubjectsAdmin(deps: { storage: Pick<Storage, 'clients' | 'users'>; pairwise: PairwiseSubjects }) {
  const { storage, pairwise } = deps;

  async function clientSector(clientId: string): Promise<string | undefined> {
    const client = await storage.clients.find(clientId);
    if (!client) throw new NotFoundError('client');
    return sectorOf(client.metadata);
  }

  async function existingUser(id: string | undefined): Promise<string> {
    const user = id ? await storage.users.findById(id) : null;
    if (!user) throw new NotFoundError('user');
    return user.id;
  }

  return {
    async resolve(query: { clientId: string; sub?: string; userId?: string }): Promise<SubjectMapping> {
      if ((query.sub === undefined) === (query.userId === undefined))
        throw new InvalidInputError('sub', 'give either sub or user_id');
      const sector = await clientSector(query.clientId);
      const subjectType = sector ? 'pairwise' : 'public';
      if (query.sub !== undefined) {
        const userId = await existingUser(sector ? pairwise.accountOf(query.sub, sector) : query.sub);
        return { clientId: query.clientId, subjectType, sub: query.sub, userId };
      }
      const userId = await existingUser(query.userId);
      return {
        clientId: query.clientId,
        subjectType,
        sub: sector ? pairwise.subjectFor(userId, sector) : userId,
        userId,
      };
    },
  };
}
