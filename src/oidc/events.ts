import type Provider from 'oidc-provider';
import type { Logger } from 'pino';

const ERROR_EVENTS = [
  'authorization.error', 'backchannel.error', 'discovery.error', 'end_session.error', 'grant.error',
  'introspection.error', 'jwks.error', 'pushed_authorization_request.error', 'revocation.error',
  'userinfo.error',
] as const;

/**
 * Provider events → structured log. Expected client errors are debug lines; server errors
 * carry the error object. Tokens, codes and secrets are never part of what is logged.
 */
export function attachProviderEvents(provider: Provider, log: Logger): void {
  provider.on('server_error', (_ctx, err) => log.error({ err }, 'oidc-provider server error'));
  const onProtocolError = (event: string) => (_ctx: unknown, err: { error?: string; error_description?: string }) =>
    log.debug({ event, error: err.error, description: err.error_description }, 'protocol error');
  for (const event of ERROR_EVENTS) provider.on(event as 'authorization.error', onProtocolError(event));
  provider.on('grant.revoked', (_ctx, grantId) => log.info({ grantId }, 'grant revoked'));
  provider.on('grant.success', (ctx) => log.debug({ client: ctx.oidc.client?.clientId, grantType: ctx.oidc.params?.grant_type }, 'token issued'));
}
