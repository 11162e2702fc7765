import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import { AppError, assertThat } from '../http/errors.js';
import { noStore } from '../http/security-headers.js';
import { requireSameOrigin } from '../security/csrf.js';
import { formField } from '../interactions/context.js';
import type { PortalDeps, WithPortalContext } from './context.js';
import { createPortalSessions } from './session.js';
import { addSelfSignInRoutes } from '../http/self-sign-in.js';
import { addWebAuthnRoutes, WEBAUTHN_NOTICES } from './webauthn.js';
import { accountOrigin } from './account-client.js';
import type { WithTranslator } from '../http/localize.js';
import { addEmailRoutes } from './email-routes.js';

const pendingBinding = (sid: string) => `account:${sid}`;

/** How the account page names each kind of security event. */
const EVENT_WORDS: Record<string, string> = {
  'signin.password.succeeded': 'Signed in with password',
  'signin.password.failed': 'Failed password sign-in',
  'signin.passkey.succeeded': 'Signed in with a passkey',
  'signin.passkey.failed': 'Failed passkey sign-in',
  'signin.mfa.succeeded': 'Second step completed',
  'signin.mfa.failed': 'Wrong second-step code',
  'signin.mfa.replayed': 'Second-step code used twice',
  'mfa.totp.enrolled': 'Authenticator app set up',
  'mfa.totp.removed': 'Authenticator app removed',
  'mfa.recovery_codes.generated': 'New recovery codes',
  'mfa.recovery_code.used': 'Recovery code used',
  'mfa.webauthn.registered': 'Passkey or security key added',
  'mfa.webauthn.renamed': 'Passkey or security key renamed',
  'mfa.webauthn.removed': 'Passkey or security key removed',
  'mfa.webauthn.counter_regressed': 'Security key refused: it may have been copied',
  'mfa.reset': 'Two-step sign-in reset by an administrator',
  'password.changed': 'Password changed',
};


/**
 * /account: the user's own security page. Signed in through Gatehouse's own code flow; every
 * change is a CSRF-checked POST answered with 303, recorded as a security event; changes to
 * factors need a recent sign-in.
 */
export function createPortalRouter(deps: PortalDeps): Router {
  const router = new Router({ prefix: '/account' });
  const sessions = createPortalSessions(deps);
  const form = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  const { storage } = deps;

  const checkCsrf = async (ctx: WithPortalContext, next: Next) => {
    assertThat(deps.csrf.verify(`account:${ctx.state.portal.sessionUid}`, formField(ctx, 'csrf')),
      () => new AppError('forbidden', 403, 'The form expired or was not sent by this site. Go back and try again.'));
    await next();
  };
  const change = [form, sessions.require, checkCsrf];
  const sensitive = [...change, sessions.requireRecentSignIn];

  async function renderPage(ctx: WithPortalContext, extra: { notice?: string; error?: string; status?: number } = {}) {
    const { userId } = ctx.state.portal;
    const [summary, factors, events, recoveryLeft] = await Promise.all([
      deps.secondFactors.summary(userId),
      storage.credentials.listSecondFactors(userId),
      storage.audit.forSubject(userId, 20),
      deps.recovery.remaining(userId),
    ]);
    ctx.status = extra.status ?? 200;
    ctx.type = 'html';
    ctx.body = await deps.views.render('account/index', {
      title: 'Your account',
      portal: ctx.state.portal,
      summary,
      recoveryLeft,
      keys: factors.filter((f) => f.type === 'webauthn'),
      events,
      eventWords: EVENT_WORDS,
      notice: extra.notice,
      error: extra.error,
      recentSignIn: Math.floor(Date.now() / 1000) - ctx.state.portal.authTime <= deps.config.mfa.reauthenticationSeconds,
    });
  }

  router.use(noStore, requireSameOrigin(new URL(deps.config.issuer).origin));

  addSelfSignInRoutes(router, sessions.signIn, change);

  const NOTICES: Record<string, string> = {
    password: 'Your password was changed.',
    totp: 'Your authenticator app is set up.',
    'totp-removed': 'Your authenticator app was removed.',
    ...WEBAUTHN_NOTICES,
  };
  router.get('/', sessions.require, (ctx: WithPortalContext) =>
    renderPage(ctx, { notice: typeof ctx.query.done === 'string' ? NOTICES[ctx.query.done] : undefined }));

  router.post('/password', ...change, async (ctx: WithPortalContext) => {
    const { userId } = ctx.state.portal;
    const current = formField(ctx, 'current_password');
    const next = formField(ctx, 'new_password');
    const changed = await deps.accounts.changePassword(userId, current, next, accountOrigin(ctx));
    if (!changed.ok) {
      const error = changed.reason === 'weak-password' ? (ctx.state as WithPortalContext['state'] & WithTranslator['state']).i18n.t(changed.problem.key, changed.problem.params) : 'Your current password is not correct.';
      return renderPage(ctx, { error, status: 400 });
    }
    ctx.status = 303;
    ctx.redirect('/account?done=password');
  });

  router.post('/totp/start', ...sensitive, async (ctx: WithPortalContext) => {
    const { email, sessionUid, csrf } = ctx.state.portal;
    const enrolment = await deps.totp.startEnrolment(email);
    await deps.pendingTotp.put(pendingBinding(sessionUid), enrolment.secret);
    ctx.type = 'html';
    ctx.body = await deps.views.render('account/totp-enrol', { title: 'Set up an authenticator app', csrf, qrSvg: enrolment.qrSvg, secret: enrolment.secret });
  });

  router.post('/totp/confirm', ...sensitive, async (ctx: WithPortalContext) => {
    const { userId, sessionUid, csrf } = ctx.state.portal;
    const secret = await deps.pendingTotp.take(pendingBinding(sessionUid));
    if (!secret) return renderPage(ctx, { error: 'The set-up expired. Start again.', status: 400 });
    const enrolled = await deps.secondFactors.enrolTotp(userId, secret, formField(ctx, 'code'), 'if-none', accountOrigin(ctx));
    if (!enrolled.ok) {
      await deps.pendingTotp.put(pendingBinding(sessionUid), secret);
      const enrolment = await deps.totp.startEnrolment(ctx.state.portal.email, secret);
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = await deps.views.render('account/totp-enrol', {
        title: 'Set up an authenticator app', csrf, qrSvg: enrolment.qrSvg, secret, error: 'That code is not correct. Try the next one.',
      });
      return;
    }
    // A user without recovery codes gets them with the app, in the same transaction.
    if (enrolled.recoveryCodes.length > 0) return renderRecoveryCodes(ctx, enrolled.recoveryCodes);
    ctx.status = 303;
    ctx.redirect('/account?done=totp');
  });

  router.post('/totp/remove', ...sensitive, async (ctx: WithPortalContext) => {
    await deps.secondFactors.removeTotp(ctx.state.portal.userId, accountOrigin(ctx));
    ctx.status = 303;
    ctx.redirect('/account?done=totp-removed');
  });

  async function renderRecoveryCodes(ctx: WithPortalContext, codes: string[]) {
    ctx.type = 'html';
    ctx.body = await deps.views.render('account/recovery-codes', { title: 'Your recovery codes', codes });
  }

  router.post('/recovery-codes', ...sensitive, async (ctx: WithPortalContext) =>
    renderRecoveryCodes(ctx, await deps.secondFactors.regenerateRecoveryCodes(ctx.state.portal.userId, accountOrigin(ctx))));
  addWebAuthnRoutes(router, deps, { sessions, form, checkCsrf });
  addEmailRoutes(router, deps, sensitive);

  return router;
}
