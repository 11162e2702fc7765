import { createHash, randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { AppError } from './errors.js';
import { parseJsonAs } from '../typed-json.js';
import type { ProviderHost } from '../oidc/provider.js';
import type { Config } from '../config/schema.js';
import type { ViewRenderer } from './views.js';
import type { Translator } from '../i18n/translator.js';
import { issuerBasePath } from '../config/issuer.js';
import { underBase } from './base-path.js';
import { renderUpstreamSignOut } from './upstream-sign-out-page.js';
import type { UpstreamSignOutTarget } from '../federation/upstream-sign-out.js';

/**
 * Gatehouse's own pages (/account, /admin) sign people in through Gatehouse itself, as a
 * first-party public client: authorization code + PKCE with state, the code redeemed
 * in-process, and a signed cookie that names the provider session it came from, so that the
 * page's session ends when the provider session ends (logout, revocation, disabled user).
 */
export interface SelfSignInArea {
  clientId: string;
  redirectUri: string;
  /**
   * Where the pages live ('/account', under the issuer's path prefix when there is one): the
   * cookies' path, the only place to return to, and the cookies' names (gh_account, gh_account_flow).
   */
  basePath: string;
  /** This page's own session; the provider session behind it may live longer. */
  sessionSeconds: number;
}

/**
 * What the signed session cookie holds. The cookie is signed, but a cookie written by an
 * older release may have another shape: it is parsed, and one that does not fit is no session.
 */
const selfSessionSchema = z.object({
  sub: z.string(),
  /** Unix seconds of the sign-in behind this session. */
  authTime: z.number(),
  amr: z.array(z.string()),
  /** The provider session's uid. */
  sid: z.string(),
  exp: z.number(),
});
export type SelfSession = z.infer<typeof selfSessionSchema>;

const storedFlowSchema = z.object({ state: z.string(), verifier: z.string(), returnTo: z.string() });
type StoredFlow = z.infer<typeof storedFlowSchema>;

/** A sign-in flow left unfinished for this long is forgotten. */
const FLOW_SECONDS = 600;

const now = () => Math.floor(Date.now() / 1000);
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = <T>(value: string | undefined, schema: z.ZodType<T>): T | undefined =>
  value ? parseJsonAs(Buffer.from(value, 'base64url').toString('utf8'), schema) : undefined;
const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export function createSelfSignIn(
  deps: { config: Pick<Config, 'issuer'>; host: ProviderHost; views: ViewRenderer },
  options: SelfSignInArea,
) {
  const { host, views } = deps;
  const { issuer } = deps.config;
  const { clientId, redirectUri, basePath } = options;
  const name = `gh_${basePath.replace(/^\//, '').replace(/\W/g, '_')}`;
  const cookies = { session: name, flow: `${name}_flow` };
  const secure = issuer.startsWith('https:');
  // Signed with the provider's cookie keys (app.keys); httpOnly, SameSite=Lax, Secure on https;
  // the path as the browser sees it, under the issuer's path prefix.
  const cookiePath = `${issuerBasePath(issuer)}${basePath}`;
  const cookie = (maxAgeSeconds: number) => ({
    signed: true,
    httpOnly: true,
    sameSite: 'lax' as const,
    secure,
    path: cookiePath,
    maxAge: maxAgeSeconds * 1000,
  });
  const returnPattern = new RegExp(`^${basePath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(/[\\w/-]*)?$`);

  /** Only a path of these pages is a place to return to (no open redirect). */
  const safeReturnPath = (value: unknown): string =>
    typeof value === 'string' && returnPattern.test(value) ? value : basePath;

  /** One of the small pages of this sign-in (views/<view>.ejs), in the request's language. */
  const page = async (ctx: Context, view: string, titleKey: string, locals: { signInUrl: string }) => {
    const { i18n } = ctx.state as { i18n: Translator };
    ctx.type = 'html';
    ctx.body = await views.render(view, { title: i18n.t(titleKey), i18n, ...locals });
  };

  return {
    basePath,
    safeReturnPath,

    /** Starts the code + PKCE flow; `reauth` forces a fresh sign-in (max_age=0). */
    startSignIn(ctx: Context, start: { returnTo: unknown; reauth: boolean }): void {
      const flow: StoredFlow = {
        state: randomBytes(16).toString('base64url'),
        verifier: randomBytes(32).toString('base64url'),
        returnTo: safeReturnPath(start.returnTo),
      };
      ctx.cookies.set(cookies.flow, encode(flow), cookie(FLOW_SECONDS));
      // The provider's own URL for it, with the issuer's path prefix.
      const url = new URL(host.current.urlFor('authorization'));
      url.search = new URLSearchParams({
        client_id: clientId,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: redirectUri,
        state: flow.state,
        code_challenge: challengeOf(flow.verifier),
        code_challenge_method: 'S256',
        ...(start.reauth ? { max_age: '0' } : {}),
      }).toString();
      ctx.redirect(url.toString());
    },

    /**
     * The end of that flow: the code is redeemed in-process (the provider's own model, the
     * adapter's single-use consume), with the same checks as the token endpoint: client,
     * redirect URI, PKCE, expiry. Returns the session (already set as a cookie) and where to go.
     */
    async finishSignIn(ctx: Context): Promise<{ session: SelfSession; returnTo: string }> {
      const flow = decode(ctx.cookies.get(cookies.flow, { signed: true }), storedFlowSchema);
      ctx.cookies.set(cookies.flow, null, cookie(0));
      const refused = () => new AppError('access_denied', 400, 'errors.selfSignIn.refused');
      if (typeof ctx.query.error === 'string') throw new AppError('access_denied', 400, 'errors.selfSignIn.cancelled');
      if (
        !flow ||
        typeof ctx.query.state !== 'string' ||
        ctx.query.state !== flow.state ||
        typeof ctx.query.code !== 'string'
      )
        throw refused();
      const code = await host.current.AuthorizationCode.find(ctx.query.code);
      if (
        !code ||
        code.clientId !== clientId ||
        code.redirectUri !== redirectUri ||
        code.codeChallenge !== challengeOf(flow.verifier) ||
        code.isExpired ||
        (code as { consumed?: unknown }).consumed ||
        !code.accountId ||
        !code.sessionUid
      ) {
        throw refused();
      }
      await code.consume();
      const session: SelfSession = {
        sub: code.accountId,
        authTime: code.authTime ?? now(),
        amr: code.amr ?? [],
        sid: code.sessionUid,
        exp: now() + options.sessionSeconds,
      };
      ctx.cookies.set(cookies.session, encode(session), cookie(options.sessionSeconds));
      return { session, returnTo: flow.returnTo };
    },

    end(ctx: Context): void {
      ctx.cookies.set(cookies.session, null, cookie(0));
    },

    /**
     * The user pressed "Cancel" on the sign-in page of these pages (the provider answers the
     * callback with error=access_denied, RFC 6749 §4.1.2.1). There is no application to go back
     * to but this one: a page that says so and offers to sign in again, where they were going.
     */
    async cancelled(ctx: Context): Promise<void> {
      const flow = decode(ctx.cookies.get(cookies.flow, { signed: true }), storedFlowSchema);
      ctx.cookies.set(cookies.flow, null, cookie(0));
      await page(ctx, 'sign-in-cancelled', 'self-sign-in.cancelled.title', {
        signInUrl: `${basePath}/login?return=${encodeURIComponent(safeReturnPath(flow?.returnTo))}`,
      });
    },

    /** The page after signing out here: signed out, and a way back in. */
    signedOut: (ctx: Context) =>
      page(ctx, 'signed-out', 'self-sign-in.signedOut.title', { signInUrl: `${basePath}/login` }),

    /** Signed out here, and now on to the upstream's sign-out (its return comes back to signedOut). */
    upstreamSignOut: (ctx: Context, target: UpstreamSignOutTarget) =>
      renderUpstreamSignOut(views, ctx, (ctx.state as { i18n: Translator }).i18n, target),

    /** The session, while its cookie is valid and the provider session behind it lives. */
    async current(ctx: Context): Promise<SelfSession | undefined> {
      const stored = decode(ctx.cookies.get(cookies.session, { signed: true }), selfSessionSchema);
      if (!stored || stored.exp <= now()) return undefined;
      const alive = await host.current.Session.findByUid(stored.sid);
      return alive && alive.accountId === stored.sub ? stored : undefined;
    },

    /** No session: a page view goes to sign in (and back); a form post is refused. */
    signInFirst(ctx: Context): void {
      if (ctx.method !== 'GET') throw new AppError('session_expired', 401, 'errors.selfSignIn.sessionEnded');
      ctx.redirect(underBase(ctx, `${basePath}/login?return=${encodeURIComponent(safeReturnPath(ctx.path))}`));
    },
  };
}

export type SelfSignIn = ReturnType<typeof createSelfSignIn>;

/**
 * The routes every self-signed-in area has: /login starts the flow, /callback ends it (a
 * cancelled sign-in gets a page with a way back in), /logout (a form behind `guards`: session
 * and CSRF) ends this session and then the provider's. With `endProviderSession`, that is done
 * here and the browser lands on /signed-out: the form is already a same-origin CSRF-checked
 * POST, so the end_session confirmation would only ask a second time (issue 15, item 13).
 * Without it, through the provider's end_session confirmation page.
 */
export function addSelfSignInRoutes(
  router: Router,
  signIn: SelfSignIn,
  guards: Middleware[],
  options: {
    /**
     * Ends the provider session; given the path of this area's "signed out" page, it may return
     * an upstream's sign-out to send the browser to first (federation/upstream-sign-out.ts).
     */
    endProviderSession?: (ctx: Context, signedOutPath: string) => Promise<UpstreamSignOutTarget | null | void>;
  } = {},
): void {
  router.get('/login', (ctx) =>
    signIn.startSignIn(ctx, { returnTo: ctx.query.return, reauth: ctx.query.reauth === '1' }),
  );
  router.get('/callback', async (ctx) => {
    if (ctx.query.error === 'access_denied') return signIn.cancelled(ctx);
    const { returnTo } = await signIn.finishSignIn(ctx);
    ctx.redirect(underBase(ctx, returnTo));
  });
  const { endProviderSession } = options;
  router.post('/logout', ...guards, async (ctx) => {
    const upstream = endProviderSession
      ? await endProviderSession(ctx, underBase(ctx, `${signIn.basePath}/signed-out`))
      : undefined;
    signIn.end(ctx);
    if (upstream) return signIn.upstreamSignOut(ctx, upstream);
    ctx.status = 303;
    ctx.redirect(underBase(ctx, endProviderSession ? `${signIn.basePath}/signed-out` : '/session/end'));
  });
  if (endProviderSession) router.get('/signed-out', (ctx) => signIn.signedOut(ctx));
}
