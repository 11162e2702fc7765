import type {
  InitialAccessTokens,
  InitialAccessTokenSummary,
  CreatedInitialAccessToken,
} from '../oidc/initial-access-tokens.js';
import type { AdminActor } from '../security/admin-actor.js';
import { NotFoundError } from '../errors/domain-errors.js';

/** Initial access tokens for dynamic registration, as admin actions (audited with the admin and client). */
export function createInitialAccessTokensAdmin(tokens: InitialAccessTokens) {
  const audited = (actor: AdminActor) => ({
    actorId: actor.userId,
    origin: { ...actor.origin, clientId: actor.clientId },
  });
  return {
    list: (): Promise<InitialAccessTokenSummary[]> => tokens.list(),
    create: (input: { ttlSeconds?: number; note?: string }, actor: AdminActor): Promise<CreatedInitialAccessToken> =>
      tokens.create({ ...input, ...audited(actor) }),
    async revoke(id: string, actor: AdminActor): Promise<void> {
      if (!(await tokens.revoke(id, audited(actor)))) throw new NotFoundError('initial access token');
    },
  };
}
