import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Metrics } from './metrics.js';

/**
 * Token endpoint successes by grant type. 'grant.success' fires once per token response
 * (oidc-provider lib/actions/token.js) and only for a grant type the provider supports, so
 * the label takes a handful of values. Refresh reuse is counted from its audit event
 * (src/observability/security-event-metrics.ts).
 */
export function attachProviderMetrics(provider: Provider, metrics: Metrics): void {
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = ctx.oidc.params?.grant_type;
    metrics.tokensIssued.inc({ grant_type: typeof grantType === 'string' ? grantType : 'other' });
  });
}
