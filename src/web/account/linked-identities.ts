import type Router from '@koa/router';
import { AppError, assertThat } from '../../http/errors.js';
import { underBase } from '../../http/base-path.js';
import { ACCOUNT_CLIENT_ID } from '../../clients/built-in-client.js';
import type { LinkedIdentity } from '../../federation/federation.service.js';
import { FederationError } from '../../federation/errors.js';
import type { FormGuard } from '../kit/form.js';
import { localizedFormError } from '../kit/form-errors.js';
import { redirectToUpstream, upstreamOrigin } from '../kit/federation.js';
import { accountOrigin } from './account-client.js';
import type { PortalDeps, WithPortalContext } from './context.js';

/** A connection id as the domain makes them (a slug); anything else in the URL is malformed. */
const CONNECTION_ID = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** How long a link round trip may take at the upstream before its state expires. */
const LINK_ROUND_TRIP_MS = 10 * 60 * 1000;

/** The `?done=` values of these routes (and of the callback after a link), and their notices. */
const NOTICES: Record<string, string> = {
  'identity-linked': 'linked-identities.notices.linked',
  'identity-unlinked': 'linked-identities.notices.unlinked',
};

/** What views/account/_linked-identities.ejs shows. */
export interface LinkedIdentitiesSection {
  linkedIdentities: LinkedIdentity[];
  /** Enabled connections offered to the account pages that the user has not linked yet. */
  linkable: Array<{ id: string; displayName: string }>;
  identitiesNotice?: string;
  identitiesError?: string;
}

/** Loads the section of the account page (router.ts spreads it into the page's locals). */
export async function loadLinkedIdentitiesSection(
  deps: Pick<PortalDeps, 'federation'>,
  ctx: WithPortalContext,
  error?: string,
): Promise<LinkedIdentitiesSection> {
  const [linkedIdentities, offered] = await Promise.all([
    deps.federation.listIdentities(ctx.state.portal.userId),
    deps.federation.offered(ACCOUNT_CLIENT_ID),
  ]);
  const linked = new Set(linkedIdentities.map((i) => i.connectionId));
  const linkable = offered.filter((c) => !linked.has(c.id));
  // The page's CSP form-action must allow them: Chromium applies it to the redirect after the POST.
  (ctx.state as { formTargets?: string[] }).formTargets = linkable.flatMap((c) => upstreamOrigin(c)?.origin ?? []);
  const done = typeof ctx.query.done === 'string' ? NOTICES[ctx.query.done] : undefined;
  return {
    linkedIdentities,
    linkable: linkable.map((c) => ({ id: c.id, displayName: c.displayName })),
    identitiesNotice: done,
    identitiesError: error,
  };
}

/** The account page again, with a message in this section (router.ts's renderPage). */
export type RenderWithIdentitiesError = (
  ctx: WithPortalContext,
  extra: { identitiesError: string; status: number },
) => Promise<void>;

function connectionParam(ctx: WithPortalContext): string {
  const id = String(ctx.params.connection ?? '');
  assertThat(CONNECTION_ID.test(id), () => new AppError('invalid_request', 400, 'linked-identities.errors.malformed'));
  return id;
}

/**
 * /account/identities/:connection/{link,unlink}: CSRF-checked posts that need a recent sign-in
 * (`sensitive`), as every change to how the account signs in does. Link starts a round trip at
 * the upstream (the callback route finishes it and comes back to `/account?done=identity-linked`); unlink is
 * refused, with the reason in the section, when it would leave no way to sign in.
 */
export function addLinkedIdentityRoutes(
  router: Router,
  deps: PortalDeps,
  tools: { sensitive: FormGuard; render: RenderWithIdentitiesError },
): void {
  router.post('/identities/:connection/link', ...tools.sensitive(), async (ctx: WithPortalContext) => {
    const connectionId = connectionParam(ctx);
    const { userId } = ctx.state.portal;
    const { i18n } = ctx.state;
    const linked = await deps.federation.listIdentities(userId);
    if (linked.some((i) => i.connectionId === connectionId))
      return tools.render(ctx, { identitiesError: i18n.t('linked-identities.errors.alreadyLinked'), status: 409 });
    const connection = (await deps.federation.offered(ACCOUNT_CLIENT_ID)).find((c) => c.id === connectionId);
    assertThat(connection, () => new AppError('not_found', 404, 'linked-identities.errors.unavailable'));
    try {
      await redirectToUpstream(ctx, deps.federation, {
        connection,
        connectionId,
        clientId: ACCOUNT_CLIENT_ID,
        intent: { kind: 'link', userId },
        expiresAt: new Date(deps.clock() + LINK_ROUND_TRIP_MS),
        returnTo: { kind: 'account' },
        secure: deps.config.issuer.startsWith('https:'),
      });
    } catch (error) {
      if (!(error instanceof FederationError)) throw error;
      // Unknown, disabled or not offered here: as if there were no such button.
      assertThat(
        error.reason !== 'connection_unavailable',
        () => new AppError('not_found', 404, 'linked-identities.errors.unavailable'),
      );
      return tools.render(ctx, { identitiesError: i18n.t('linked-identities.errors.upstreamDown'), status: 502 });
    }
  });

  router.post('/identities/:connection/unlink', ...tools.sensitive(), async (ctx: WithPortalContext) => {
    const connectionId = connectionParam(ctx);
    const { i18n } = ctx.state;
    let removed: boolean;
    try {
      removed = await deps.federation.unlink(ctx.state.portal.userId, connectionId, accountOrigin(ctx));
    } catch (error) {
      const refused = localizedFormError(
        error,
        i18n,
        { 'connection:last_sign_in_method': 'linked-identities.errors.lastSignInMethod' },
        'linked-identities.errors.refused',
      );
      if (!refused) throw error;
      return tools.render(ctx, { identitiesError: refused.message, status: 400 });
    }
    assertThat(removed, () => new AppError('not_found', 404, 'linked-identities.errors.notLinked'));
    ctx.status = 303;
    ctx.redirect(underBase(ctx, '/account?done=identity-unlinked#linked-identities'));
  });
}
