import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { AppError, assertThat } from '../../http/errors.js';
import { underBase } from '../../http/base-path.js';
import { lockedOutMessage } from '../../i18n/duration.js';
import { passwordAttempts } from '../../security/password-attempts.js';
import type { Connection } from '../../federation/connection.js';
import { FederationError } from '../../federation/errors.js';
import type { FormGuard, WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';
import {
  FEDERATION_ICONS,
  federationHandoffs,
  redirectToUpstream,
  upstreamOrigin,
  type FederationHandoff,
  type FederationHandoffs,
} from '../kit/federation.js';
import { UPSTREAM_SIGN_IN_RESULT } from '../../oidc/upstream-sign-in.js';
import { interactionOrigin, type InteractionDeps, type WithInteractionContext } from './context.js';

type Finish = (ctx: WithInteractionContext, result: Record<string, unknown>, merge?: boolean) => Promise<void>;

/** The proof that the person owns the account an upstream's address matched: its password. */
const linkForm = z.object({ password: text() });

const clientOf = (ctx: WithInteractionContext): string | null => {
  const clientId = ctx.state.interaction.params.client_id;
  return typeof clientId === 'string' ? clientId : null;
};

/** When the interaction expires: its round trip expires with it. */
const expiryOf = (ctx: WithInteractionContext) => new Date(ctx.state.interaction.exp * 1000);

const secureIssuer = (deps: InteractionDeps) => deps.origin.startsWith('https:');

/**
 * `login` of a sign-in through an upstream (RFC 8176 amr): `fed`, and `mfa` when the
 * connection trusts the upstream's; the acr is the level that stands for.
 */
function federatedLogin(deps: InteractionDeps, handoff: Pick<FederationHandoff, 'userId' | 'amr'>, amr = handoff.amr) {
  return {
    accountId: handoff.userId,
    amr,
    acr: amr.includes('mfa') ? deps.config.acr.mfa : deps.config.acr.password,
    remember: deps.config.sessions.rememberByDefault,
  };
}

/**
 * The sealed upstream sign-in, as a key of the interaction's result: the provider's resume
 * hands the result on, and oidc/upstream-sign-in.ts keeps it with the session it signs in.
 */
const upstreamSignInResult = (handoff: FederationHandoff) =>
  handoff.upstreamSignIn ? { [UPSTREAM_SIGN_IN_RESULT]: handoff.upstreamSignIn } : {};

/** Sends the browser to a connection's upstream for this interaction's sign-in. */
export function continueUpstream(
  deps: InteractionDeps,
  ctx: WithInteractionContext,
  connection: Connection,
  loginHint?: string,
): Promise<void> {
  const { uid } = ctx.state.interaction;
  return redirectToUpstream(ctx, deps.federation, {
    connection,
    connectionId: connection.id,
    interactionUid: uid,
    clientId: clientOf(ctx),
    expiresAt: expiryOf(ctx),
    loginHint,
    returnTo: { kind: 'interaction', uid },
    secure: secureIssuer(deps),
  });
}

/**
 * The connections this interaction's client offers, as the sign-in page shows them, and the
 * upstream origins its buttons' POSTs are redirected to (for CSP form-action).
 */
export async function offeredConnections(deps: InteractionDeps, ctx: WithInteractionContext) {
  const connections = await deps.federation.offered(clientOf(ctx));
  const origins = connections.flatMap((c) => upstreamOrigin(c)?.origin ?? []);
  const state = ctx.state as { formTargets?: string[] };
  state.formTargets = [...(state.formTargets ?? []), ...origins];
  return connections.map((c) => ({ id: c.id, name: c.displayName, icon: iconOf(c) }));
}

function iconOf(connection: Connection): string {
  const wanted = connection.icon ?? connection.preset;
  return (FEDERATION_ICONS as readonly string[]).includes(wanted) ? wanted : 'generic';
}

/**
 * An RP's `upstream=<connection id>` (like Keycloak's kc_idp_hint): the choice is skipped once
 * per interaction, when the connection is offered to the client; otherwise the page shows.
 */
export async function followUpstreamHint(deps: InteractionDeps, ctx: WithInteractionContext): Promise<boolean> {
  const hint = ctx.state.interaction.params.upstream;
  if (typeof hint !== 'string' || !hint || hint.length > 64) return false;
  const connection = await deps.federation.resolveHint(hint, clientOf(ctx));
  if (!connection) return false;
  if (!(await federationHandoffs(deps.kv).firstHintUse(ctx.state.interaction.uid))) return false;
  const loginHint = ctx.state.interaction.params.login_hint;
  await continueUpstream(deps, ctx, connection, typeof loginHint === 'string' ? loginHint : undefined);
  return true;
}

/**
 * The sign-in page's side of upstream sign-in: a "Continue with …" button's POST, the return
 * from the callback (web/federation/), and the proof a link-required outcome asks for.
 */
export function addFederationRoutes(
  router: Router,
  deps: InteractionDeps,
  tools: { form: FormGuard; requirePrompt: (...names: string[]) => Middleware },
  finish: Finish,
): void {
  const { form, requirePrompt } = tools;
  const handoffs: FederationHandoffs = federationHandoffs(deps.kv);

  router.post(
    '/federation/start/:connection',
    ...form(undefined, requirePrompt('login', 'select_account')),
    async (ctx: WithInteractionContext) => {
      const connectionId = String(ctx.params.connection);
      const connection = (await deps.federation.offered(clientOf(ctx))).find((c) => c.id === connectionId);
      assertThat(connection, () => new AppError('not_found', 404, 'federation.errors.connection_unavailable'));
      await continueUpstream(deps, ctx, connection);
    },
  );

  /** Where the callback sends the browser: this interaction's cookie proves it is the same sign-in. */
  router.get('/federation/resume', requirePrompt('login', 'select_account'), async (ctx: WithInteractionContext) => {
    const { uid } = ctx.state.interaction;
    const handoff = await handoffs.take(uid);
    if (!handoff) {
      ctx.redirect(underBase(ctx, `/interaction/${uid}`));
      return;
    }
    if (handoff.kind === 'link-required') {
      await handoffs.putLink(uid, handoff);
      return renderLink(deps, ctx, handoff);
    }
    return finish(ctx, { select_account: {}, login: federatedLogin(deps, handoff), ...upstreamSignInResult(handoff) });
  });

  router.post(
    '/federation/link',
    ...form(linkForm, requirePrompt('login', 'select_account')),
    async (ctx: WithInteractionContext & WithForm<typeof linkForm>) => {
      const { uid } = ctx.state.interaction;
      const handoff = await handoffs.peekLink(uid);
      assertThat(
        handoff?.email && handoff.pending,
        () => new AppError('invalid_request', 400, 'federation.link.nothingPending'),
      );
      const { password } = ctx.state.form;
      if (!password || password.length > 4 * deps.config.passwordPolicy.maxLength) {
        ctx.status = 400;
        return renderLink(deps, ctx, handoff, 'federation.link.wrongPassword');
      }
      // The same budgets and lockout as the sign-in page's password (security/password-attempts.ts).
      await passwordAttempts.admit(deps.limits, ctx, handoff.email);
      const result = await deps.accounts.signInWithPassword(handoff.email, password, interactionOrigin(ctx));
      if (!result.ok || result.user.id !== handoff.userId) {
        if (!result.ok && result.reason === 'invalid-credentials') await passwordAttempts.failed(deps.limits, ctx);
        if (!result.ok && result.reason === 'throttled') {
          ctx.status = 429;
          ctx.set('Retry-After', String(result.retryAfterSeconds));
          return renderLink(deps, ctx, handoff, lockedOutMessage(ctx.state.i18n, result.retryAfterSeconds));
        }
        ctx.status = !result.ok && result.reason === 'disabled' ? 403 : 401;
        return renderLink(deps, ctx, handoff, 'federation.link.wrongPassword');
      }
      try {
        await deps.federation.link(handoff.userId, handoff.pending, interactionOrigin(ctx));
      } catch (error) {
        if (!(error instanceof FederationError)) throw error;
        await handoffs.dropLink(uid);
        throw new AppError(
          error.reason,
          error.reason === 'identity_in_use' ? 409 : 400,
          `federation.errors.${error.reason}`,
        );
      }
      await handoffs.dropLink(uid);
      // Both proofs were given: the upstream's sign-in and the account's password.
      return finish(ctx, {
        select_account: {},
        login: federatedLogin(deps, handoff, [...new Set([...handoff.amr, 'pwd'])]),
        ...upstreamSignInResult(handoff),
      });
    },
  );
}

async function renderLink(
  deps: InteractionDeps,
  ctx: WithInteractionContext,
  handoff: FederationHandoff,
  errorKey?: string,
): Promise<void> {
  const { uid } = ctx.state.interaction;
  const { i18n } = ctx.state;
  const connection = (await deps.federation.offered(clientOf(ctx))).find((c) => c.id === handoff.connectionId);
  ctx.type = 'html';
  ctx.body = await deps.views.render('interaction/federation-link', {
    title: i18n.t('federation.link.title'),
    i18n,
    uid,
    csrf: deps.csrf.token(uid),
    email: handoff.email ?? '',
    connectionName: connection?.displayName ?? handoff.connectionId,
    error: errorKey && i18n.message(errorKey),
  });
}
