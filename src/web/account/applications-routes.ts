import type Router from '@koa/router';
import { AppError, assertThat } from '../../http/errors.js';
import type { Translator } from '../../i18n/translator.js';
import type { FormGuard } from '../kit/form.js';
import { accountOrigin } from './account-client.js';
import type { PortalDeps, WithPortalContext } from './context.js';
import { underBase } from '../../http/base-path.js';

/** A client id as a form may name one: printable ASCII, as our ids and RFC 7591 ids are; anything else is malformed. */
const CLIENT_ID = /^[\x21-\x7e]{1,255}$/;

/** An allowed application as views/account/_applications.ejs shows it. */
interface ApplicationView {
  clientId: string;
  name: string;
  /** What it may access, in plain words (catalogue `scopes.<name>`, or the API's own scope names). */
  access: string[];
  since: Date;
}

export interface ApplicationsSection {
  applications: ApplicationView[];
  applicationsNotice?: string;
}

/** What a scope lets an application do, in the user's words; an unknown scope by its name. */
function accessWords(i18n: Translator, scopes: string[], resourceScopes: Record<string, string[]>): string[] {
  return [
    ...scopes.map((scope) => i18n.find(`scopes.${scope}`) ?? scope),
    ...Object.entries(resourceScopes).flatMap(([resource, names]) =>
      names.map((scope) => i18n.t('consent.resourceScope', { scope, resource })),
    ),
  ];
}

/** Loads the applications section of the account page (router.ts spreads it into the page's locals). */
export async function loadApplicationsSection(
  deps: Pick<PortalDeps, 'applications'>,
  ctx: WithPortalContext,
): Promise<ApplicationsSection> {
  const { i18n } = ctx.state;
  const applications = (await deps.applications.list(ctx.state.portal.userId)).map((app) => ({
    clientId: app.clientId,
    name: app.clientName,
    access: accessWords(i18n, app.scopes, app.resourceScopes),
    since: app.since,
  }));
  const revoked = ctx.query.done === 'application-revoked';
  return { applications, applicationsNotice: revoked ? 'applications.notices.revoked' : undefined };
}

/**
 * /account/applications/:client/revoke: the user withdraws an application's access (the
 * consent page promised they could). A CSRF-checked form post (`change`) answered with 303;
 * another user's application, a first-party or unknown client all answer 404 and change nothing.
 */
export function addApplicationRoutes(router: Router, deps: PortalDeps, tools: { change: FormGuard }): void {
  router.post('/applications/:client/revoke', ...tools.change(), async (ctx: WithPortalContext) => {
    const clientId = String(ctx.params.client ?? '');
    assertThat(CLIENT_ID.test(clientId), () => new AppError('invalid_request', 400, 'applications.errors.malformed'));
    const revoked = await deps.applications.revoke(ctx.state.portal.userId, clientId, accountOrigin(ctx));
    assertThat(revoked, () => new AppError('not_found', 404, 'applications.errors.notFound'));
    ctx.status = 303;
    ctx.redirect(underBase(ctx, '/account?done=application-revoked#applications'));
  });
}
