import type Router from '@koa/router';
import { AppError, assertThat } from '../../http/errors.js';
import type { Translator } from '../../i18n/translator.js';
import type { SessionView } from '../../accounts/user-sessions.js';
import type { FormGuard } from '../kit/form.js';
import { accountOrigin } from './account-client.js';
import type { PortalDeps, WithPortalContext } from './context.js';
import type { PortalSessions } from './session.js';
import { underBase } from '../../http/base-path.js';

/** A session id as oidc-provider makes them (nanoid: url-safe, 21 characters); anything else is malformed. */
const SESSION_ID = /^[A-Za-z0-9_-]{10,64}$/;

/** The `?done=` values these routes answer with, and the notice the account page shows for each. */
const NOTICES: Record<string, string> = {
  'session-ended': 'sessions.notices.ended',
  'sessions-ended': 'sessions.notices.othersEnded',
};

/** An application signed in through a session, by the name people know it by (its id when it has none). */
interface SessionApplication {
  id: string;
  name: string;
}

/** What views/account/_sessions.ejs shows: the user's sessions, this browser's first. */
export interface SessionsSection {
  sessions: Array<SessionView & { current: boolean; applications: SessionApplication[] }>;
  sessionsNotice?: string;
}

/** The registered names of these clients; a client gone since (deleted) keeps its id. */
async function applicationNames(
  deps: Pick<PortalDeps, 'storage'>,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  const rows = await Promise.all(unique.map((id) => deps.storage.clients.find(id)));
  return new Map(unique.map((id, i) => [id, rows[i]?.name || id]));
}

/** Loads the sessions section of the account page (router.ts spreads it into the page's locals). */
export async function loadSessionsSection(
  deps: Pick<PortalDeps, 'userSessions' | 'storage'>,
  ctx: WithPortalContext,
): Promise<SessionsSection> {
  const { userId, sessionUid } = ctx.state.portal;
  const listed = await deps.userSessions.list(userId);
  const names = await applicationNames(
    deps,
    listed.flatMap((s) => s.clientIds),
  );
  const sessions = listed
    .map((s) => ({
      ...s,
      current: s.uid === sessionUid,
      applications: s.clientIds.map((id) => ({ id, name: names.get(id) ?? id })),
    }))
    .sort((a, b) => Number(b.current) - Number(a.current));
  const done = typeof ctx.query.done === 'string' ? NOTICES[ctx.query.done] : undefined;
  return { sessions, sessionsNotice: done };
}

const i18nOf = (ctx: WithPortalContext) => (ctx.state as { i18n?: Translator }).i18n;

/**
 * /account/sessions/*: the user ends one of their other sessions, all of them, or signs out
 * everywhere (every session, grant and refresh token, this browser's included). Each is a
 * CSRF-checked form post answered with 303 (`change`: body parser, session, CSRF).
 */
export function addSessionRoutes(
  router: Router,
  deps: PortalDeps,
  tools: { sessions: PortalSessions; change: FormGuard },
): void {
  const { userSessions, views } = deps;

  router.post('/sessions/others/end', ...tools.change(), async (ctx: WithPortalContext) => {
    const { userId, sessionUid } = ctx.state.portal;
    await userSessions.endOthers(userId, sessionUid, accountOrigin(ctx));
    ctx.status = 303;
    ctx.redirect(underBase(ctx, '/account?done=sessions-ended#sessions'));
  });

  router.post('/sessions/everywhere/end', ...tools.change(), async (ctx: WithPortalContext) => {
    await userSessions.signOutEverywhere(ctx.state.portal.userId, accountOrigin(ctx));
    tools.sessions.signIn.end(ctx);
    ctx.type = 'html';
    ctx.body = await views.render('account/signed-out-everywhere', {
      title: i18nOf(ctx)?.t('sessions.everywhere.title') ?? 'Signed out everywhere',
      i18n: i18nOf(ctx),
    });
  });

  router.post('/sessions/:session/end', ...tools.change(), async (ctx: WithPortalContext) => {
    const target = String(ctx.params.session ?? '');
    assertThat(SESSION_ID.test(target), () => new AppError('invalid_request', 400, 'sessions.errors.malformed'));
    const { userId, sessionUid } = ctx.state.portal;
    const ended = await userSessions.endOne(userId, target, accountOrigin(ctx));
    // Another user's session and one that already ended look the same: neither is theirs to end.
    assertThat(ended, () => new AppError('not_found', 404, 'sessions.errors.notFound'));
    if (target === sessionUid) {
      // Ending this browser's own session is signing out here.
      tools.sessions.signIn.end(ctx);
      ctx.status = 303;
      return ctx.redirect(underBase(ctx, '/account'));
    }
    ctx.status = 303;
    ctx.redirect(underBase(ctx, '/account?done=session-ended#sessions'));
  });
}
