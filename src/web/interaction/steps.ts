import { clientMetadataOf, type InteractionDeps, type WithInteractionContext } from './context.js';
import { emailSignInAllowed } from '../../codes/code-policy.js';
import type { Translator } from '../../i18n/translator.js';
import { FIRST_PARTY } from '../../clients/client-metadata.js';
import { ACCOUNT_CLIENT_ID } from '../../clients/built-in-client.js';
import { rpIdUsable } from '../../config/issuer.js';
import { offeredConnections } from './federation.js';
import { askingClient } from './asking-client.js';
import { allowPageImages } from '../../http/security-headers.js';

/** What the user sees for a scope, in plain words (catalogue `scopes.<name>`); others by name. */
export function scopeDescription(i18n: Translator, scope: string): string {
  return i18n.find(`scopes.${scope}`) ?? scope;
}

/** The name the user sees for the client of this interaction. */
async function clientName(deps: InteractionDeps, ctx: WithInteractionContext, fallbackKey: string): Promise<string> {
  const client = await deps.host.current.Client.find(String(ctx.state.interaction.params.client_id));
  // Our own account pages are named in the user's language (in the case the login sentence
  // needs: German dative), not by their stored English name.
  if (client?.clientId === ACCOUNT_CLIENT_ID)
    return ctx.state.i18n.t('login.accountPages', { product: deps.config.branding.productName });
  return client?.clientName ?? client?.clientId ?? ctx.state.i18n.t(fallbackKey);
}

/**
 * One sign-in step's page: its view, in the interaction's language, with the interaction uid
 * and CSRF token every form needs.
 */
async function renderStep(
  deps: InteractionDeps,
  ctx: WithInteractionContext,
  view: string,
  titleKey: string,
  locals: Record<string, unknown>,
) {
  const { uid } = ctx.state.interaction;
  const { i18n } = ctx.state;
  ctx.type = 'html';
  ctx.body = await deps.views.render(`interaction/${view}`, {
    title: i18n.t(titleKey),
    i18n,
    uid,
    csrf: deps.csrf.token(uid),
    ...locals,
  });
}

/** The login page; `error` is the catalogue key of its error line. */
export async function renderLogin(
  deps: InteractionDeps,
  ctx: WithInteractionContext,
  extra: { email?: string; error?: string } = {},
) {
  const { params } = ctx.state.interaction;
  const hint = typeof params.login_hint === 'string' ? params.login_hint : '';
  await renderStep(deps, ctx, 'login', 'login.title', {
    clientName: await clientName(deps, ctx, 'login.theApplication'),
    email: extra.email ?? hint,
    error: extra.error && ctx.state.i18n.t(extra.error),
    signUpEnabled: deps.selfService.settings.enabled,
    rememberByDefault: deps.config.sessions.rememberByDefault,
    // An IP-address issuer cannot run WebAuthn: no passkey button that could only fail.
    passkeys: rpIdUsable(deps.webauthn.relyingParty.id),
    // "Continue with …" for each connection the client offers (web/interaction/federation.ts).
    connections: await offeredConnections(deps, ctx),
    // "Email me a link / a code" (web/interaction/email-sign-in.ts), where the deployment and client allow it.
    emailSignIn: await emailSignInOffered(deps, ctx),
  });
}

/** Whether this sign-in offers email sign-in (the deployment's switch and the client's). */
export async function emailSignInOffered(deps: InteractionDeps, ctx: WithInteractionContext): Promise<boolean> {
  return emailSignInAllowed(deps.config, await clientMetadataOf(deps, ctx));
}

export async function renderSelectAccount(deps: InteractionDeps, ctx: WithInteractionContext) {
  const { session } = ctx.state.interaction;
  const user = session?.accountId ? await deps.accounts.findActiveUser(session.accountId) : undefined;
  if (!user) return renderLogin(deps, ctx);
  await renderStep(deps, ctx, 'select-account', 'login.selectAccount.title', { email: user.email, name: user.name });
}

export async function renderConsent(deps: InteractionDeps, ctx: WithInteractionContext) {
  const { params, prompt } = ctx.state.interaction;
  const { i18n } = ctx.state;
  const details = prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
  const requested = String(params.scope ?? '')
    .split(' ')
    .filter(Boolean);
  const resourceScopes = Object.entries(details.missingResourceScopes ?? {});
  const oidcScopes =
    details.missingOIDCScope?.length || resourceScopes.length > 0 ? (details.missingOIDCScope ?? []) : requested;
  const scopes = [
    ...oidcScopes.map((name) => ({ name, description: scopeDescription(i18n, name) })),
    // An API's scopes (RFC 8707 resource indicators) are named as the API defines them.
    ...resourceScopes.flatMap(([indicator, names]) =>
      names.map((name) => ({
        name,
        description: i18n.t('consent.resourceScope', { scope: name, resource: indicator }),
      })),
    ),
  ];
  const client = await deps.host.current.Client.find(String(params.client_id));
  const asking = askingClient(client?.metadata() ?? {}, params.redirect_uri);
  if (asking.logo) allowPageImages(ctx, [asking.logo.origin]);
  const accountId = ctx.state.interaction.session?.accountId;
  const user = accountId ? await deps.accounts.findActiveUser(accountId) : undefined;
  await renderStep(deps, ctx, 'consent', 'consent.title', {
    clientName: await clientName(deps, ctx, 'consent.thisApplication'),
    scopes,
    asking,
    // "Signed in as … · Not you?" (POST /switch-account goes back to the login step).
    signedInAs: user ? (user.name ?? user.email) : undefined,
    signedInEmail: user?.email,
  });
}

export function isFirstPartyClient(metadata: Record<string, unknown> | undefined): boolean {
  return metadata?.[FIRST_PARTY] === true;
}
