import type { InteractionDeps, WithInteractionContext } from './context.js';
import { FIRST_PARTY } from '../oidc/client-metadata.js';

/** What the user sees for each scope, in plain words. */
export const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Know who you are: your account identifier on this service',
  profile: 'See your name',
  email: 'See your email address and whether it is verified',
  offline_access: 'Stay connected to your account when you are not using the application, until you revoke it',
  roles: 'See the roles you hold on this service (what you are allowed to do)',
};

/** The name the user sees for the client of this interaction. */
async function clientName(deps: InteractionDeps, ctx: WithInteractionContext, fallback: string): Promise<string> {
  const client = await deps.host.current.Client.find(String(ctx.state.interaction.params.client_id));
  return client?.clientName ?? client?.clientId ?? fallback;
}

/** One sign-in step's page: its view, with the interaction uid and CSRF token every form needs. */
async function renderStep(deps: InteractionDeps, ctx: WithInteractionContext, view: string, title: string, locals: Record<string, unknown>) {
  const { uid } = ctx.state.interaction;
  ctx.type = 'html';
  ctx.body = await deps.views.render(`interaction/${view}`, { title, uid, csrf: deps.csrf.token(uid), ...locals });
}

export async function renderLogin(deps: InteractionDeps, ctx: WithInteractionContext, extra: { email?: string; error?: string } = {}) {
  const { params } = ctx.state.interaction;
  const hint = typeof params.login_hint === 'string' ? params.login_hint : '';
  await renderStep(deps, ctx, 'login', 'Sign in', {
    clientName: await clientName(deps, ctx, 'the application'),
    email: extra.email ?? hint,
    error: extra.error,
    signUpEnabled: deps.selfService.settings.enabled,
  });
}

export async function renderSelectAccount(deps: InteractionDeps, ctx: WithInteractionContext) {
  const { session } = ctx.state.interaction;
  const user = session?.accountId ? await deps.accounts.findActiveUser(session.accountId) : undefined;
  if (!user) return renderLogin(deps, ctx);
  await renderStep(deps, ctx, 'select-account', 'Choose an account', { email: user.email, name: user.name });
}

export async function renderConsent(deps: InteractionDeps, ctx: WithInteractionContext) {
  const { params, prompt } = ctx.state.interaction;
  const details = prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
  const requested = String(params.scope ?? '').split(' ').filter(Boolean);
  const resourceScopes = Object.entries(details.missingResourceScopes ?? {});
  const oidcScopes = details.missingOIDCScope?.length || resourceScopes.length > 0 ? details.missingOIDCScope ?? [] : requested;
  const scopes = [
    ...oidcScopes.map((name) => ({ name, description: SCOPE_DESCRIPTIONS[name] ?? name })),
    // An API's scopes (RFC 8707 resource indicators) are named as the API defines them.
    ...resourceScopes.flatMap(([indicator, names]) => names.map((name) => ({ name, description: `${name} on ${indicator}` }))),
  ];
  await renderStep(deps, ctx, 'consent', 'Allow access?', {
    clientName: await clientName(deps, ctx, 'This application'),
    scopes,
  });
}

export function isFirstPartyClient(metadata: Record<string, unknown> | undefined): boolean {
  return metadata?.[FIRST_PARTY] === true;
}
