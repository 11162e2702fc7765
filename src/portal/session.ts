import { createHash, randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import { AppError } from '../http/errors.js';
import { ACCOUNT_CLIENT_ID, accountRedirectUri } from './account-client.js';
import type { PortalDeps, WithPortalContext } from './context.js';

const SESSION_COOKIE = 'gh_account';
const FLOW_COOKIE = 'gh_account_flow';
/** The account pages' own session is short; the provider session behind it may live longer. */
const SESSION_SECONDS = 3600;
const FLOW_SECONDS = 600;

interface StoredSession {
  sub: string;
  authTime: number;
  amr: string[];
  sid: string;
  exp: number;
}

interface StoredFlow {
  state: string;
  verifier: string;
  returnTo: string;
}

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function unb64<T>(value: string | undefined): T | undefined {
  if (!value) return undefined;
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Only our own account pages are places to return to (no open redirect). */
export function safeReturnPath(value: unknown): string {
  return typeof value === 'string' && /^\/account(\/[\w/-]*)?$/.test(value) ? value : '/account';
}

export function createPortalSessions(deps: PortalDeps) {
  const secure = deps.config.issuer.startsWith('https:');
  // Signed with the provider's cookie keys (app.keys); httpOnly, SameSite=Lax, Secure on https.
  const cookie = (maxAgeSeconds: number) => ({ signed: true, httpOnly: true, sameSite: 'lax' as const, secure, path: '/account', maxAge: maxAgeSeconds * 1000 });

  return {
    /** Starts Gatehouse's own code + PKCE flow; `reauth` forces a fresh sign-in (max_age=0). */
    startSignIn(ctx: Context, options: { returnTo: string; reauth: boolean }) {
      const flow: StoredFlow = { state: randomBytes(16).toString('base64url'), verifier: randomBytes(32).toString('base64url'), returnTo: safeReturnPath(options.returnTo) };
      ctx.cookies.set(FLOW_COOKIE, b64(flow), cookie(FLOW_SECONDS));
      const url = new URL('/auth', deps.config.issuer);
      url.search = new URLSearchParams({
        client_id: ACCOUNT_CLIENT_ID,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: accountRedirectUri(deps.config.issuer),
        state: flow.state,
        code_challenge: createHash('sha256').update(flow.verifier).digest('base64url'),
        code_challenge_method: 'S256',
        ...(options.reauth ? { max_age: '0' } : {}),
      }).toString();
      ctx.redirect(url.toString());
    },

    /**
     * The end of that flow: the code is redeemed in-process (the provider's own model, the
     * adapter's single-use consume), with the same checks as the token endpoint: client,
     * redirect URI, PKCE, expiry.
     */
    async finishSignIn(ctx: Context): Promise<string> {
      const flow = unb64<StoredFlow>(ctx.cookies.get(FLOW_COOKIE, { signed: true }));
      ctx.cookies.set(FLOW_COOKIE, null, cookie(0));
      const refused = () => new AppError('access_denied', 400, 'The sign-in to your account page could not be completed. Try again.');
      if (typeof ctx.query.error === 'string') throw new AppError('access_denied', 400, 'Sign-in was cancelled or refused.');
      if (!flow || typeof ctx.query.state !== 'string' || ctx.query.state !== flow.state || typeof ctx.query.code !== 'string') throw refused();
      const code = await deps.host.current.AuthorizationCode.find(ctx.query.code);
      const challenge = createHash('sha256').update(flow.verifier).digest('base64url');
      if (!code || code.clientId !== ACCOUNT_CLIENT_ID || code.redirectUri !== accountRedirectUri(deps.config.issuer)
        || code.codeChallenge !== challenge || code.isExpired || (code as { consumed?: unknown }).consumed || !code.accountId || !code.sessionUid) {
        throw refused();
      }
      await code.consume();
      const session: StoredSession = {
        sub: code.accountId, authTime: code.authTime ?? now(), amr: code.amr ?? [], sid: code.sessionUid, exp: now() + SESSION_SECONDS,
      };
      ctx.cookies.set(SESSION_COOKIE, b64(session), cookie(SESSION_SECONDS));
      return flow.returnTo;
    },

    end(ctx: Context) {
      ctx.cookies.set(SESSION_COOKIE, null, cookie(0));
    },

    /** Loads the account session, or sends the browser to sign in (and back here). */
    async require(ctx: WithPortalContext, next: Next) {
      const stored = unb64<StoredSession>(ctx.cookies.get(SESSION_COOKIE, { signed: true }));
      const user = stored && stored.exp > now() ? await deps.accounts.findActiveUser(stored.sub) : undefined;
      // The account pages end with the provider session they came from (logout, revocation).
      const alive = stored && user ? await deps.host.current.Session.findByUid(stored.sid) : undefined;
      if (!stored || !user || !alive || alive.accountId !== stored.sub) {
        if (ctx.method !== 'GET') throw new AppError('session_expired', 401, 'Your account session ended. Sign in again.');
        return ctx.redirect(`/account/login?return=${encodeURIComponent(safeReturnPath(ctx.path))}`);
      }
      ctx.state.portal = {
        userId: user.id, email: user.email, authTime: stored.authTime, amr: stored.amr, sessionUid: stored.sid,
        csrf: deps.csrf.token(`account:${stored.sid}`),
      };
      return next();
    },

    /** Sensitive changes need a sign-in from the last few minutes (config mfa.reauthenticationSeconds). */
    async requireRecentSignIn(ctx: WithPortalContext, next: Next) {
      if (now() - ctx.state.portal.authTime > deps.config.mfa.reauthenticationSeconds) {
        ctx.status = 303;
        return ctx.redirect('/account/login?reauth=1');
      }
      return next();
    },
  };
}

export type PortalSessions = ReturnType<typeof createPortalSessions>;
