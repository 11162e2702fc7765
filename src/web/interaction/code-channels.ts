import { z } from 'zod';
import { firstFactorOf, requestedLevel, secondStepChannels } from '../../accounts/authentication-level.js';
import { secondsUntilResend } from '../../codes/code-policy.js';
import type { KeyValueStore } from '../../storage/key-value-store.js';
import { clientMetadataOf, type InteractionDeps, type WithInteractionContext } from './context.js';

export type CodeChannel = 'email' | 'sms';

const challengeSchema = z.object({
  challengeId: z.string(),
  channel: z.enum(['email', 'sms']),
  sentAt: z.number(),
  resendAfterSeconds: z.number(),
});
type SentCode = z.infer<typeof challengeSchema>;

const CHALLENGE_TTL_SECONDS = 3600;
const challengeKey = (uid: string) => `mfa-code:${uid}`;

/** The code this interaction's second step sent last (one at a time: a new one voids the old). */
export function codeChallenges(kv: KeyValueStore) {
  return {
    put: (uid: string, sent: SentCode) => kv.set(challengeKey(uid), JSON.stringify(sent), CHALLENGE_TTL_SECONDS),
    /** The code sent last, with the seconds until another may be sent, seen at `now` (epoch ms). */
    async peek(uid: string, now: number): Promise<(SentCode & { waitSeconds: number }) | undefined> {
      const raw = await kv.get(challengeKey(uid));
      const parsed = raw ? challengeSchema.safeParse(JSON.parse(raw)) : undefined;
      if (!parsed?.success) return undefined;
      const { sentAt, resendAfterSeconds } = parsed.data;
      return { ...parsed.data, waitSeconds: secondsUntilResend(sentAt, resendAfterSeconds, now) };
    },
    drop: (uid: string) => kv.delete(challengeKey(uid)),
  };
}

/**
 * The email and SMS second factors of this sign-in: `enrolled`, those the user turned on that
 * the deployment and this client allow (less email after an email sign-in); `offered`, those
 * that can also reach the level the RP asks for (none for phishing-resistant).
 */
export async function codeChannelsOf(
  deps: InteractionDeps,
  ctx: WithInteractionContext,
  accountId: string,
): Promise<{ enrolled: CodeChannel[]; offered: CodeChannel[] }> {
  return stepChannels(deps, ctx, await deps.codeFactors.available(accountId, await clientMetadataOf(deps, ctx)));
}

/** codeChannelsOf, from the channels the codes domain made `available` to this client. */
export function stepChannels(
  deps: Pick<InteractionDeps, 'config'>,
  ctx: WithInteractionContext,
  available: readonly CodeChannel[],
): { enrolled: CodeChannel[]; offered: CodeChannel[] } {
  const first = firstFactorOf(ctx.state.interaction.session?.amr);
  const acrValues = ctx.state.interaction.params.acr_values;
  const wanted = requestedLevel(typeof acrValues === 'string' ? acrValues : undefined, deps.config.acr);
  return {
    enrolled: secondStepChannels(available, first, undefined),
    offered: secondStepChannels(available, first, wanted),
  };
}
