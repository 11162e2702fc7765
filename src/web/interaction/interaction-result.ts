import type { WithInteractionContext } from './context.js';

type LoadedInteraction = WithInteractionContext['state']['interaction'];

/**
 * What oidc-provider's interactionResult does (lib/provider.js), on the interaction this request
 * already loaded: the library's own call reads it from the database a second time, one
 * statement more on every step of every sign-in (issue 20). Returns where the browser resumes.
 */
export async function saveInteractionResult(
  interaction: LoadedInteraction,
  result: Record<string, unknown>,
  mergeWithLastSubmission: boolean,
): Promise<string> {
  interaction.result =
    mergeWithLastSubmission && !('error' in result) ? { ...interaction.lastSubmission, ...result } : result;
  await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
  return interaction.returnTo;
}
