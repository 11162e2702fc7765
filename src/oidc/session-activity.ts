import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { SessionsRepository } from '../storage/sessions.repository.js';

/** At most this many sessions remembered as recently written; past it the memory starts over. */
const MAX_TRACKED = 10_000;

/** The session oidc-provider loaded for this request, as far as we read it. */
interface LoadedSession {
  id?: string;
  accountId?: string;
  destroyed?: boolean;
}

/**
 * Records the use of a signed-in session (ip, user agent, last seen) and pushes its idle
 * timeout forward: a post-middleware of the provider (`provider.use`), which runs after the
 * provider has saved the session. A write per request would cost more than the request, so
 * each session row is written at most once per `everySeconds` by this process (a minute, or
 * half the idle timeout when that is shorter); the first request after a sign-in writes at
 * once, as the provider gives the session a new row id at each sign-in.
 */
export function trackSessionActivity(deps: {
  sessions: Pick<SessionsRepository, 'recordSessionActivity'>;
  idleTimeoutSeconds: number;
  log: Logger;
}): Middleware {
  const everyMs = Math.min(60, deps.idleTimeoutSeconds / 2) * 1000;
  const lastWrite = new Map<string, number>();

  return async function recordSessionActivity(ctx, next) {
    await next();
    const session = (ctx as { oidc?: { session?: LoadedSession } }).oidc?.session;
    if (!session?.id || !session.accountId || session.destroyed) return;
    const now = Date.now();
    if (now - (lastWrite.get(session.id) ?? 0) < everyMs) return;
    if (lastWrite.size >= MAX_TRACKED) lastWrite.clear();
    lastWrite.set(session.id, now);
    try {
      await deps.sessions.recordSessionActivity(
        session.id,
        { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null },
        deps.idleTimeoutSeconds,
      );
    } catch (err) {
      // Bookkeeping only: the request itself succeeded.
      deps.log.warn({ err }, 'recording session activity failed');
    }
  };
}
