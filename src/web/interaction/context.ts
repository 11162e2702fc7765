import type { Context } from 'koa';
import { AppError, assertThat } from '../../http/errors.js';
import type { ProviderHost } from '../../oidc/provider.js';
import type { ViewRenderer } from '../../http/views.js';
import type { ConsentsRepository } from '../../storage/consents.repository.js';
import type { KeyValueStore } from '../../storage/key-value-store.js';
import type { RequestOrigin } from '../../security/audit.js';
import type { SelfServiceDeps, Services } from '../../services.js';
import { requestOrigin } from '../../http/request-origin.js';
import type { Config } from '../../config/schema.js';
import type { Locale } from '../../i18n/locale.js';
import type { Translator } from '../../i18n/translator.js';

/**
 * What the sign-in steps read. The services' rate limits (`limits`) guard the steps
 * (src/security/rate-limits.ts).
 */
export interface InteractionDeps extends Pick<
  Services,
  | 'accounts'
  | 'csrf'
  | 'secondFactors'
  | 'totp'
  | 'pendingTotp'
  | 'webauthn'
  | 'audit'
  | 'limits'
  | 'federation'
  | 'emailSignIn'
  | 'codeFactors'
> {
  host: ProviderHost;
  views: ViewRenderer;
  /** Consent remembered per user and client when the user allows a third-party client. */
  consents: Pick<ConsentsRepository, 'remember'>;
  /** The issuer's origin: forms must be posted from it. */
  origin: string;
  kv: KeyValueStore;
  config: Pick<Config, 'acr' | 'sessions' | 'branding' | 'passwordPolicy' | 'codes'>;
  /** Each step speaks the language of its interaction's ui_locales (OIDC Core §3.1.2.1). */
  translatorFor: (locale: Locale) => Translator;
  /** Sign-up and email verification (src/web/interaction/signup.ts). */
  selfService: SelfServiceDeps;
  /** Now, in epoch ms (createGatehouse's clock): when a code was sent, and how long until another may be. */
  clock: () => number;
}

type InteractionDetails = Awaited<ReturnType<ProviderHost['current']['interactionDetails']>>;

export interface WithInteractionContext extends Context {
  state: { interaction: InteractionDetails; i18n: Translator };
}

/** The account signed in to this interaction's session; a 400 page when the session ended. */
export function signedInAccount(ctx: WithInteractionContext): string {
  const accountId = ctx.state.interaction.session?.accountId;
  assertThat(accountId, () => new AppError('session_not_found', 400, 'login.sessionEnded'));
  return accountId;
}

/**
 * The "Keep me signed in" choice made at the first step of this sign-in: a later step (the
 * second factor) finishes with a login result again and must not overturn it.
 */
export function rememberChoice(ctx: WithInteractionContext): boolean {
  const last = ctx.state.interaction.lastSubmission as { login?: { remember?: unknown } } | undefined;
  return last?.login?.remember !== false;
}

/**
 * Where a sign-in step's request came from, naming the client the user is signing in to, so
 * every sign-in and second-factor event of this interaction says which application it was for.
 */
export function interactionOrigin(ctx: WithInteractionContext): RequestOrigin {
  const clientId = ctx.state.interaction.params.client_id;
  return { ...requestOrigin(ctx), clientId: typeof clientId === 'string' ? clientId : null };
}

/** The metadata of this interaction's client: its gatehouse_email_sign_in and gatehouse_sms may turn methods off. */
export async function clientMetadataOf(
  deps: Pick<InteractionDeps, 'host'>,
  ctx: WithInteractionContext,
): Promise<Readonly<Record<string, unknown>> | undefined> {
  const client = await deps.host.current.Client.find(String(ctx.state.interaction.params.client_id));
  return client?.metadata();
}
