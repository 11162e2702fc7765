import type { Grant, Provider } from 'oidc-provider';
import type { ConsentInput, ConsentsRepository } from '../storage/consents.repository.js';

/**
 * Consent remembered per user and client, apart from oidc-provider's per-session Grants
 * (docs/decisions.md, "Consent is remembered across sessions"): what a Grant the user allowed
 * holds is written down, and a new session's Grant starts from it.
 */

/** What a Grant holds, as the consent record keeps it. */
export function consentOf(grant: Grant): ConsentInput {
  const resourceScopes: Record<string, string> = {};
  for (const resource of Object.keys(grant.resources ?? {})) {
    const scope = grant.getResourceScope(resource);
    if (scope) resourceScopes[resource] = scope;
  }
  return {
    accountId: grant.accountId ?? '',
    clientId: grant.clientId ?? '',
    scope: grant.getOIDCScope(),
    claims: grant.getOIDCClaims(),
    resourceScopes,
  };
}

/** A new (unsaved) Grant for this session carrying what the user consented to earlier, if anything. */
export async function grantFromConsent(
  provider: Provider,
  consents: Pick<ConsentsRepository, 'find'>,
  accountId: string,
  clientId: string,
): Promise<Grant | undefined> {
  const consent = await consents.find(accountId, clientId);
  if (!consent) return undefined;
  const grant = new provider.Grant({ accountId, clientId });
  if (consent.scope) grant.addOIDCScope(consent.scope);
  if (consent.claims.length > 0) grant.addOIDCClaims(consent.claims);
  for (const [resource, scope] of Object.entries(consent.resourceScopes)) {
    if (scope) grant.addResourceScope(resource, scope);
  }
  return grant;
}
