import type { Next } from 'koa';
import { AppError, assertThat } from '../../http/errors.js';
import { createSelfSignIn } from '../../http/self-sign-in.js';
import { requestOrigin } from '../../http/request-origin.js';
import { hasSecondFactor } from '../../accounts/authentication-level.js';
import { createForms } from '../kit/form.js';
import { ADMIN_CONSOLE_CLIENT_ID } from '../../clients/built-in-client.js';
import { adminRedirectUri } from '../../admin/console-client.js';
import { ADMIN_ROLE } from '../../roles/roles.service.js';
import type { ConsoleDeps, WithConsoleContext } from './context.js';

/** An admin's console session is shorter than the account pages': it can change everything. */
const SESSION_SECONDS = 1800;

/** The console's sign-in (src/http/self-sign-in.ts) and the checks every console route runs. */
export function createConsoleSessions(deps: ConsoleDeps) {
  const signIn = createSelfSignIn(deps, {
    clientId: ADMIN_CONSOLE_CLIENT_ID,
    redirectUri: adminRedirectUri(deps.config.issuer),
    basePath: '/admin',
    sessionSeconds: SESSION_SECONDS,
  });
  const binding = (sid: string) => `admin:${sid}`;

  return {
    signIn,

    /**
     * A live session of an active user who holds the admin role now: the role is read on
     * every request, so removing it (or disabling the user) takes effect at once.
     */
    async requireAdmin(ctx: WithConsoleContext, next: Next) {
      const session = await signIn.current(ctx);
      const user = session ? await deps.accounts.findActiveUser(session.sub) : undefined;
      // A session from before consoleMfa became 'required' signs in again, with the second step.
      const strongEnough = deps.config.admin.consoleMfa === 'optional' || hasSecondFactor(session?.amr);
      if (!session || !user || !strongEnough) return signIn.signInFirst(ctx);
      const roles = await deps.storage.roles.rolesOf(user.id);
      assertThat(
        roles.includes(ADMIN_ROLE),
        () =>
          new AppError(
            'forbidden',
            403,
            `You are signed in as ${user.email}, which is not an administrator of this Gatehouse. Ask an administrator to give you the "${ADMIN_ROLE}" role.`,
          ),
      );
      ctx.state.console = {
        userId: user.id,
        email: user.email,
        sessionUid: session.sid,
        csrf: deps.csrf.token(binding(session.sid)),
        actor: { userId: user.id, clientId: ADMIN_CONSOLE_CLIENT_ID, origin: requestOrigin(ctx) },
      };
      return next();
    },

    /**
     * Every POST form carries the session's CSRF token (and passed requireSameOrigin before),
     * checked after requireAdmin (the form's check) has loaded the session it is bound to.
     */
    form: createForms<WithConsoleContext>({
      limit: '64kb',
      csrf: (ctx, token) => deps.csrf.verify(binding(ctx.state.console.sessionUid), token),
      refused: () =>
        new AppError(
          'forbidden',
          403,
          'The form expired or was not sent by this site. Go back, reload the page and try again.',
        ),
    }),
  };
}
