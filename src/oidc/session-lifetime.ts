import type { Config } from '../config/schema.js';

type SessionSettings = Pick<Config['sessions'], 'absoluteLifetimeSeconds' | 'idleTimeoutSeconds'>;

const now = () => Math.floor(Date.now() / 1000);

/**
 * oidc-provider's `ttl.Session`: the time left until the absolute end of the session, counted
 * from the sign-in (loginTs), so that saving a session again never extends it. The provider
 * puts this end into the payload's `exp` and, for a persistent session, the cookie's Expires
 * (lib/shared/session.js). A session saved before anyone signed in gets the whole lifetime.
 */
export function sessionTtl(settings: SessionSettings) {
  return (_ctx: unknown, session: { loginTs?: number }): number => {
    if (typeof session.loginTs !== 'number') return settings.absoluteLifetimeSeconds;
    // The provider insists on a positive integer; a session past its end lives one more second.
    return Math.max(1, session.loginTs + settings.absoluteLifetimeSeconds - now());
  };
}

/**
 * How long the stored Session row lives when the provider saves it: until the idle timeout,
 * never past its absolute end. Each recorded use pushes it forward again (session-activity.ts),
 * so an unused session disappears from the store, whatever its cookie says.
 */
export function sessionRowSeconds(settings: SessionSettings, expiresIn: number | undefined): number {
  return Math.min(expiresIn ?? settings.absoluteLifetimeSeconds, settings.idleTimeoutSeconds);
}
