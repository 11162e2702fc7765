import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AuditLog } from '../security/audit.js';
import { requestOrigin } from '../http/request-origin.js';
import type { SessionsRepository } from '../storage/sessions.repository.js';
import { trackSessionActivity } from './session-activity.js';
import type { BackchannelLogout } from './backchannel-logout.js';

/**
 * What Gatehouse adds to each Provider for sessions: the activity it records and the audit of
 * a logout at end_session. Middleware: given when the provider is built (it is mounted then).
 */
export function attachSessionHandling(
  provider: Provider,
  deps: {
    sessions: SessionsRepository;
    audit: AuditLog;
    log: Logger;
    idleTimeoutSeconds: number;
  },
): void {
  provider.use(
    trackSessionActivity({ sessions: deps.sessions, idleTimeoutSeconds: deps.idleTimeoutSeconds, log: deps.log }),
  );

  // The user confirmed "sign out" at end_session: the whole session ended (not one client's part of it).
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    const session = ctx.oidc.session as (typeof ctx.oidc.session & { destroyed?: boolean }) | undefined;
    if (!session?.destroyed || !session.accountId) return;
    deps.audit
      .record(
        'session.ended',
        {
          actorId: session.accountId,
          subjectId: session.accountId,
          clientId: ctx.oidc.client?.clientId ?? null,
          details: { session: session.uid, reason: 'logout' },
        },
        requestOrigin(ctx),
      )
      .catch((err: unknown) => deps.log.warn({ err }, 'audit of a logout failed'));
  });
}

/**
 * The back-channel deliveries the library makes at end_session: the first try of each, which
 * backchannel-logout.ts records and retries. Listeners only, so they may be attached to a
 * provider already built (ProviderHost.extend).
 */
export function attachBackchannelEvents(
  provider: Provider,
  backchannel: Pick<BackchannelLogout, 'providerTried'>,
): void {
  const deliveryOf = (ctx: KoaContextWithOIDC, clientId: string, accountId: string, sid: string) => ({
    clientId,
    accountId,
    sid: sid || null,
    sessionUid: ctx.oidc.session?.uid ?? '',
  });
  provider.on('backchannel.success', (ctx, client, accountId, sid) =>
    backchannel.providerTried(deliveryOf(ctx, client.clientId, accountId, sid)),
  );
  provider.on('backchannel.error', (ctx, err, client, accountId, sid) =>
    backchannel.providerTried(deliveryOf(ctx, client.clientId, accountId, sid), err),
  );
}
