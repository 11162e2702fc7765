import type { Next } from 'koa';
import { createSelfSignIn } from '../../http/self-sign-in.js';
import { ACCOUNT_CLIENT_ID } from '../../clients/built-in-client.js';
import { accountRedirectUri } from './account-client.js';
import type { PortalDeps, WithPortalContext } from './context.js';
import { underBase } from '../../http/base-path.js';

/** The account pages' own session is short; the provider session behind it may live longer. */
const SESSION_SECONDS = 3600;

/** The account pages' sign-in (src/http/self-sign-in.ts) and the checks their routes run. */
export function createPortalSessions(deps: PortalDeps) {
  const signIn = createSelfSignIn(deps, {
    clientId: ACCOUNT_CLIENT_ID,
    redirectUri: accountRedirectUri(deps.config.issuer),
    basePath: '/account',
    sessionSeconds: SESSION_SECONDS,
  });

  return {
    signIn,

    /** Loads the account session, or sends the browser to sign in (and back here). */
    async require(ctx: WithPortalContext, next: Next) {
      const session = await signIn.current(ctx);
      const user = session ? await deps.accounts.findActiveUser(session.sub) : undefined;
      if (!session || !user) return signIn.signInFirst(ctx);
      ctx.state.portal = {
        userId: user.id,
        email: user.email,
        authTime: session.authTime,
        amr: session.amr,
        sessionUid: session.sid,
        csrf: deps.csrf.token(`account:${session.sid}`),
      };
      return next();
    },

    /** Sensitive changes need a sign-in from the last few minutes (config mfa.reauthenticationSeconds). */
    async requireRecentSignIn(ctx: WithPortalContext, next: Next) {
      if (Math.floor(deps.clock() / 1000) - ctx.state.portal.authTime > deps.config.mfa.reauthenticationSeconds) {
        ctx.status = 303;
        return ctx.redirect(underBase(ctx, '/account/login?reauth=1'));
      }
      return next();
    },
  };
}

export type PortalSessions = ReturnType<typeof createPortalSessions>;
