import Router from '@koa/router';
import { noStore } from '../../http/security-headers.js';
import { requireSameOrigin } from '../../security/csrf.js';
import { createForms, type FormGuard, type WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';
import type { PortalDeps, WithPortalContext } from './context.js';
import { createPortalSessions } from './session.js';
import { addSelfSignInRoutes } from '../../http/self-sign-in.js';
import { addWebAuthnRoutes, WEBAUTHN_NOTICES } from './webauthn.js';
import { accountOrigin } from './account-client.js';
import type { Translator } from '../../i18n/translator.js';
import { RECOVERY_CODE_COUNT } from '../../accounts/recovery-codes.js';
import { rpIdUsable } from '../../config/issuer.js';
import { addEmailRoutes } from './email-routes.js';
import { addSessionRoutes, loadSessionsSection } from './sessions-routes.js';
import { addApplicationRoutes, loadApplicationsSection } from './applications-routes.js';
import { addProfileRoutes, loadProfileSection } from './profile-routes.js';
import { signOutOthersForm, signOutOthersIfAsked } from './sign-out-others.js';
import { passwordAttempts } from '../../security/password-attempts.js';
import { lockedOutMessage } from '../../i18n/duration.js';
import { underBase } from '../../http/base-path.js';
import { addLinkedIdentityRoutes, loadLinkedIdentitiesSection } from './linked-identities.js';
import { addCodeFactorRoutes, CODE_FACTOR_NOTICES, loadCodeFactorsSection } from './code-factors-routes.js';

/** A refused password change: its message and the field it is about. */
interface PasswordFormError {
  field: 'current' | 'new';
  message: string;
}

const pendingBinding = (sid: string) => `account:${sid}`;

/** The current password and the new one; the accounts service checks both. */
const passwordForm = signOutOthersForm.extend({ current_password: text(), new_password: text() });
/** The first code of the app being set up. */
const totpConfirmForm = signOutOthersForm.extend({ code: text() });

/**
 * How the account page names a security event: its catalogue entry `events.<action>`; an
 * action without one (a newer kind) by its own name.
 */
function eventWord(i18n: Translator, action: string): string {
  return i18n.find(`events.${action}`) ?? action;
}

/**
 * /account: the user's own security page. Signed in through Gatehouse's own code flow; every
 * change is a CSRF-checked POST answered with 303, recorded as a security event; changes to
 * factors need a recent sign-in.
 */
export function createPortalRouter(deps: PortalDeps): Router {
  const router = new Router({ prefix: '/account' });
  const sessions = createPortalSessions(deps);
  const { storage } = deps;

  // Each form's CSRF token is bound to the account session (session.ts), loaded before it.
  const form = createForms<WithPortalContext>({
    limit: '16kb',
    csrf: (ctx, token) => deps.csrf.verify(`account:${ctx.state.portal.sessionUid}`, token),
  });
  const change: FormGuard = (schema) => form(schema, sessions.require);
  /** Changes to factors and the address also need a recent sign-in. */
  const sensitive: FormGuard = (schema) => [...change(schema), sessions.requireRecentSignIn];

  /**
   * `passwordError` is shown inside the password form, next to the field it is about
   * (aria-describedby, WCAG 2.2 SC 3.3.1), not at the top of a long page.
   */
  async function renderPage(
    ctx: WithPortalContext,
    extra: {
      notice?: string;
      error?: string;
      passwordError?: PasswordFormError;
      /** A refused link or unlink, shown in the sign-in providers section. */
      identitiesError?: string;
      status?: number;
    } = {},
  ) {
    const { userId } = ctx.state.portal;
    const { i18n } = ctx.state;
    const [summary, factors, events, recoveryLeft] = await Promise.all([
      deps.secondFactors.summary(userId),
      storage.credentials.listSecondFactors(userId),
      storage.audit.forSubject(userId, 20),
      deps.recovery.remaining(userId),
    ]);
    ctx.status = extra.status ?? 200;
    ctx.type = 'html';
    ctx.body = await deps.views.render('account/index', {
      title: i18n.t('account.title'),
      i18n,
      portal: ctx.state.portal,
      summary,
      recoveryLeft,
      recoveryTotal: RECOVERY_CODE_COUNT,
      minPasswordLength: deps.config.passwordPolicy.minLength,
      maxPasswordLength: deps.config.passwordPolicy.maxLength,
      keys: factors.filter((f) => f.type === 'webauthn'),
      // WebAuthn needs a domain as RP ID: on an IP-address issuer the page says so instead of offering keys.
      passkeys: rpIdUsable(deps.webauthn.relyingParty.id),
      events,
      eventWord: (action: string) => eventWord(i18n, action),
      notice: extra.notice && i18n.t(extra.notice),
      error: extra.error,
      passwordError: extra.passwordError,
      recentSignIn:
        Math.floor(deps.clock() / 1000) - ctx.state.portal.authTime <= deps.config.mfa.reauthenticationSeconds,
      ...(await loadSessionsSection(deps, ctx)),
      ...(await loadApplicationsSection(deps, ctx)),
      ...(await loadLinkedIdentitiesSection(deps, ctx, extra.identitiesError)),
      ...(await loadProfileSection(deps, ctx)),
      ...(await loadCodeFactorsSection(deps, ctx)),
    });
  }

  router.use(noStore, requireSameOrigin(new URL(deps.config.issuer).origin));

  // "Sign out" ends this browser's provider session at once: one click, no second question (issue 15, item 13).
  addSelfSignInRoutes(router, sessions.signIn, change(), {
    endProviderSession: async (ctx, signedOutPath) => {
      const { userId, sessionUid } = (ctx as WithPortalContext).state.portal;
      await deps.userSessions.endOne(userId, sessionUid, accountOrigin(ctx), 'logout');
      // A session signed in through an upstream that signs out too: on there first.
      return deps.upstreamSignOut.signOutUrl(sessionUid, signedOutPath);
    },
  });

  const NOTICES: Record<string, string> = {
    password: 'account.notices.password',
    totp: 'account.notices.totp',
    'totp-removed': 'account.notices.totpRemoved',
    ...WEBAUTHN_NOTICES,
    ...CODE_FACTOR_NOTICES,
  };
  router.get('/', sessions.require, (ctx: WithPortalContext) =>
    renderPage(ctx, { notice: typeof ctx.query.done === 'string' ? NOTICES[ctx.query.done] : undefined }),
  );

  router.post('/password', ...change(passwordForm), async (ctx: WithPortalContext & WithForm<typeof passwordForm>) => {
    const { userId, email } = ctx.state.portal;
    const { current_password: current, new_password: next } = ctx.state.form;
    // The current password is a password check like sign-in's, in the same budgets (issue 14, finding 4).
    await passwordAttempts.admit(deps.selfService.limits, ctx, email);
    const changed = await deps.accounts.changePassword(userId, current, next, accountOrigin(ctx));
    if (!changed.ok) {
      const { i18n } = ctx.state;
      if (changed.reason === 'throttled') {
        // The sign-in page's answer to a lockout wait: 429, Retry-After, and the same sentence.
        ctx.set('Retry-After', String(changed.retryAfterSeconds));
        return renderPage(ctx, {
          passwordError: { field: 'current', message: lockedOutMessage(i18n, changed.retryAfterSeconds) },
          status: 429,
        });
      }
      if (changed.reason === 'wrong-current-password') await passwordAttempts.failed(deps.selfService.limits, ctx);
      const passwordError: PasswordFormError =
        changed.reason === 'weak-password'
          ? { field: 'new', message: i18n.t(changed.problem.key, changed.problem.params) }
          : { field: 'current', message: i18n.t('account.password.wrongCurrent') };
      return renderPage(ctx, { passwordError, status: 400 });
    }
    await signOutOthersIfAsked(deps, ctx, 'password-changed', ctx.state.form.sign_out_others);
    ctx.status = 303;
    ctx.redirect(underBase(ctx, '/account?done=password'));
  });

  router.post('/totp/start', ...sensitive(), async (ctx: WithPortalContext) => {
    const { email, sessionUid, csrf } = ctx.state.portal;
    const enrolment = await deps.totp.startEnrolment(email);
    await deps.pendingTotp.put(pendingBinding(sessionUid), enrolment.secret);
    ctx.type = 'html';
    const { i18n } = ctx.state;
    ctx.body = await deps.views.render('account/totp-enrol', {
      title: i18n.t('account.totp.title'),
      i18n,
      csrf,
      qrSvg: enrolment.qrSvg,
      secret: enrolment.secret,
    });
  });

  router.post(
    '/totp/confirm',
    ...sensitive(totpConfirmForm),
    async (ctx: WithPortalContext & WithForm<typeof totpConfirmForm>) => {
      const { userId, sessionUid, csrf } = ctx.state.portal;
      const secret = await deps.pendingTotp.take(pendingBinding(sessionUid));
      if (!secret) return renderPage(ctx, { error: ctx.state.i18n.t('account.totp.expired'), status: 400 });
      const enrolled = await deps.secondFactors.enrolTotp(
        userId,
        secret,
        ctx.state.form.code,
        'if-none',
        accountOrigin(ctx),
      );
      if (!enrolled.ok) {
        await deps.pendingTotp.put(pendingBinding(sessionUid), secret);
        const enrolment = await deps.totp.startEnrolment(ctx.state.portal.email, secret);
        ctx.status = 400;
        ctx.type = 'html';
        const { i18n } = ctx.state;
        ctx.body = await deps.views.render('account/totp-enrol', {
          title: i18n.t('account.totp.title'),
          i18n,
          csrf,
          qrSvg: enrolment.qrSvg,
          secret,
          error: i18n.t('account.totp.wrongCode'),
        });
        return;
      }
      await signOutOthersIfAsked(deps, ctx, 'factor-changed', ctx.state.form.sign_out_others);
      // A user without recovery codes gets them with the app, in the same transaction.
      if (enrolled.recoveryCodes.length > 0) return renderRecoveryCodes(ctx, enrolled.recoveryCodes);
      ctx.status = 303;
      ctx.redirect(underBase(ctx, '/account?done=totp'));
    },
  );

  router.post(
    '/totp/remove',
    ...sensitive(signOutOthersForm),
    async (ctx: WithPortalContext & WithForm<typeof signOutOthersForm>) => {
      await deps.secondFactors.removeTotp(ctx.state.portal.userId, accountOrigin(ctx));
      await signOutOthersIfAsked(deps, ctx, 'factor-changed', ctx.state.form.sign_out_others);
      ctx.status = 303;
      ctx.redirect(underBase(ctx, '/account?done=totp-removed'));
    },
  );

  async function renderRecoveryCodes(ctx: WithPortalContext, codes: string[]) {
    ctx.type = 'html';
    ctx.body = await deps.views.render('account/recovery-codes', {
      title: ctx.state.i18n.t('account.recovery.title'),
      i18n: ctx.state.i18n,
      codes,
    });
  }

  router.post(
    '/recovery-codes',
    ...sensitive(signOutOthersForm),
    async (ctx: WithPortalContext & WithForm<typeof signOutOthersForm>) => {
      const codes = await deps.secondFactors.regenerateRecoveryCodes(ctx.state.portal.userId, accountOrigin(ctx));
      await signOutOthersIfAsked(deps, ctx, 'factor-changed', ctx.state.form.sign_out_others);
      return renderRecoveryCodes(ctx, codes);
    },
  );
  addWebAuthnRoutes(router, deps, { sessions, sensitive });
  addEmailRoutes(router, deps, sensitive);
  addCodeFactorRoutes(router, deps, sensitive);
  addSessionRoutes(router, deps, { sessions, change });
  addApplicationRoutes(router, deps, { change });
  addLinkedIdentityRoutes(router, deps, { sensitive, render: renderPage });
  addProfileRoutes(router, deps, { change });

  return router;
}
