import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AuditLog } from '../security/audit.js';
import { requestOrigin } from '../http/request-origin.js';
import { recordProviderFailure } from '../http/provider-failure.js';

const ERROR_EVENTS = [
  'authorization.error',
  'backchannel.error',
  'discovery.error',
  'end_session.error',
  'grant.error',
  'introspection.error',
  'jwks.error',
  'pushed_authorization_request.error',
  'revocation.error',
  'userinfo.error',
] as const;

/**
 * Provider events → structured log. Expected client errors are debug lines; server errors
 * go to the error handler with the error object. Tokens, codes and secrets are never part of what is logged.
 */
export function attachProviderEvents(provider: Provider, log: Logger, audit: AuditLog): void {
  // The error handler logs it, or maps it when the database was unavailable (src/http/error-handler.ts).
  provider.on('server_error', recordProviderFailure);
  const onProtocolError = (event: string) => (_ctx: unknown, err: { error?: string; error_description?: string }) =>
    log.debug({ event, error: err.error, description: err.error_description }, 'protocol error');
  for (const event of ERROR_EVENTS) provider.on(event as 'authorization.error', onProtocolError(event));
  // oidc-provider (lib/actions/grants/refresh_token.js) and our adapter's concurrent consume both
  // answer a rotated refresh token's reuse with this detail after revoking the grant.
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: { error_detail?: string }) => {
    if (err.error_detail !== 'refresh token already used') return;
    const token = ctx.oidc.entities.RefreshToken;
    audit
      .record(
        'refresh_token.reuse_detected',
        {
          subjectId: token?.accountId ?? null,
          clientId: ctx.oidc.client?.clientId ?? null,
          details: { grant: token?.grantId ?? null },
        },
        requestOrigin(ctx),
      )
      .catch((error: unknown) => log.warn({ err: error }, 'audit of refresh token reuse failed'));
  });
  provider.on('grant.revoked', (_ctx, grantId) => log.info({ grantId }, 'grant revoked'));
  provider.on('grant.success', (ctx) =>
    log.debug({ client: ctx.oidc.client?.clientId, grantType: ctx.oidc.params?.grant_type }, 'token issued'),
  );
}
