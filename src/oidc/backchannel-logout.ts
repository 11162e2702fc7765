import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { AuditLog } from '../security/audit.js';
import type { EndedSession } from '../storage/sessions.repository.js';

/** One logout token to deliver: this client took part in this ended session. */
export interface LogoutDelivery {
  clientId: string;
  accountId: string;
  /** The session's `sid` for this client (in its ID tokens); in the token when the client requires it. */
  sid: string | null;
  sessionUid: string;
}

/** What oidc-provider's Client offers for back-channel logout (lib/models/client.js); not in its type definitions. */
interface BackchannelClient {
  backchannelLogoutUri?: string;
  backchannelLogout(sub: string, sid: string | undefined): Promise<void>;
}

export type BackchannelSettings = Config['sessions']['backchannelLogout'];

/** Seconds to wait before try `attempt` (2, 3…): initialDelay × factor^(attempt − 2). */
export function retryDelaySeconds(settings: BackchannelSettings, attempt: number): number {
  return settings.initialDelaySeconds * settings.backoffFactor ** Math.max(0, attempt - 2);
}

/**
 * OpenID Connect Back-Channel Logout 1.0 for every way a session ends. The logout token is
 * the library's own (`client.backchannelLogout(sub, sid)`: iss, aud, iat, exp, jti, events,
 * sub, sid when the client requires it, no nonce, signed with the provider's keys); this
 * module decides whom to tell, retries with back-off and records each outcome. The queue is
 * in-process: deliveries still waiting when the process stops are lost (docs/sessions.md).
 */
export function createBackchannelLogout(deps: {
  provider: () => Provider;
  audit: AuditLog;
  log: Logger;
  settings: BackchannelSettings;
}) {
  const { audit, log, settings } = deps;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let stopped = false;

  const record = (
    action: 'backchannel_logout.delivered' | 'backchannel_logout.failed' | 'backchannel_logout.abandoned',
    delivery: LogoutDelivery,
    attempt: number,
    extra: Record<string, unknown> = {},
  ) =>
    audit
      .record(action, {
        actorId: null,
        subjectId: delivery.accountId,
        clientId: delivery.clientId,
        details: { session: delivery.sessionUid, attempt, ...extra },
      })
      .catch((err: unknown) => log.warn({ err, action }, 'audit of a back-channel logout failed'));

  function schedule(delivery: LogoutDelivery, attempt: number, delaySeconds: number): void {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      track(deliver(delivery, attempt));
    }, delaySeconds * 1000);
    // A pending retry does not keep a stopping process alive.
    timer.unref();
    timers.add(timer);
  }

  function track(work: Promise<void>): void {
    running.add(work);
    void work.finally(() => running.delete(work));
  }

  /** A try failed: record it and schedule the next, or give up after the configured attempts. */
  async function failed(delivery: LogoutDelivery, attempt: number, error: unknown): Promise<void> {
    const reason = error instanceof Error ? error.message.slice(0, 300) : 'delivery failed';
    if (attempt >= settings.attempts) {
      log.warn({ client: delivery.clientId, attempt }, 'back-channel logout abandoned');
      await record('backchannel_logout.abandoned', delivery, attempt, { reason });
      return;
    }
    await record('backchannel_logout.failed', delivery, attempt, { reason });
    schedule(delivery, attempt + 1, retryDelaySeconds(settings, attempt + 1));
  }

  async function deliver(delivery: LogoutDelivery, attempt: number): Promise<void> {
    let client: BackchannelClient | undefined;
    try {
      client = (await deps.provider().Client.find(delivery.clientId)) as unknown as BackchannelClient | undefined;
    } catch (error) {
      return failed(delivery, attempt, error);
    }
    // The client was deleted or no longer asks to be told: nothing to deliver.
    if (!client?.backchannelLogoutUri) return;
    try {
      await client.backchannelLogout(delivery.accountId, delivery.sid ?? undefined);
    } catch (error) {
      return failed(delivery, attempt, error);
    }
    await record('backchannel_logout.delivered', delivery, attempt);
  }

  return {
    /**
     * These sessions ended (the user or an admin ended them, the user signed out everywhere,
     * a password reset): every client that took part in one and registered a
     * backchannel_logout_uri gets a logout token. Call it after the transaction that ended
     * them has committed; it returns at once, deliveries run in the background.
     */
    sessionsEnded(sessions: EndedSession[]): void {
      for (const session of sessions) {
        for (const { clientId, sid } of session.clients) {
          track(deliver({ clientId, sid, accountId: session.accountId, sessionUid: session.uid }, 1));
        }
      }
    },

    /**
     * oidc-provider delivers itself when a session ends at end_session (and says so with the
     * backchannel.success / backchannel.error events); its try is the first, ours follow.
     */
    providerTried(delivery: LogoutDelivery, error?: unknown): void {
      if (error === undefined) track(record('backchannel_logout.delivered', delivery, 1));
      else track(failed(delivery, 1, error));
    },

    /** Waits for the deliveries in flight (not for scheduled retries). */
    async settled(): Promise<void> {
      while (running.size > 0) await Promise.allSettled([...running]);
    },

    stop(): void {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

export type BackchannelLogout = ReturnType<typeof createBackchannelLogout>;
