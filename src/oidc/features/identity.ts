import { errors, type Configuration, type KoaContextWithOIDC, type ClientMetadata } from 'oidc-provider';
import type { Config } from '../../config/schema.js';
import type { PairwiseSubjects } from '../../security/pairwise-subject.js';
import type { SectorCheck } from '../../clients/sector-identifier.js';
import { checkRedirectUri } from '../../clients/redirect-uri.js';
import { InvalidInputError } from '../../errors/domain-errors.js';

type IdentitySettings = Config['identity'];

/**
 * Pairwise subjects (OIDC Core §8.1): oidc-provider asks for a client's `sub` with the client,
 * whose sector it computes (sector_identifier_uri's host, else the redirect URI's); the value
 * is ours (security/pairwise-subject.ts). The sector document is checked when a client is saved
 * (clients/sector-identifier.ts), so the provider does not fetch it again each time it loads one.
 */
export function subjectOptions(
  settings: IdentitySettings,
  pairwise: PairwiseSubjects,
): Pick<Configuration, 'subjectTypes' | 'pairwiseIdentifier' | 'sectorIdentifierUriValidate'> {
  return {
    subjectTypes: settings.pairwiseSubjects ? ['public', 'pairwise'] : ['public'],
    pairwiseIdentifier: async (_ctx, accountId, client) => {
      const sector: unknown = client.sectorIdentifier;
      if (typeof sector !== 'string' || !sector) throw new Error('a pairwise client without a sector');
      return pairwise.subjectFor(accountId, sector);
    },
    sectorIdentifierUriValidate: () => false,
  };
}

/** The claims parameter (OIDC Core §5.5) and JWT userinfo (§5.3.2), each behind its switch. */
export function identityFeatures(
  settings: IdentitySettings,
): Pick<NonNullable<Configuration['features']>, 'claimsParameter' | 'jwtUserinfo'> {
  return {
    claimsParameter: { enabled: settings.claimsParameter },
    jwtUserinfo: { enabled: settings.signedUserinfo },
  };
}

/**
 * OIDC Front-Channel Logout 1.0 §2.1/§3: oidc-provider 9 has no front-channel logout of its
 * own, so the client metadata is ours (delivery: oidc/frontchannel-logout.ts).
 */
export const FRONTCHANNEL_METADATA = ['frontchannel_logout_uri', 'frontchannel_logout_session_required'] as const;

export function frontchannelDiscovery(settings: IdentitySettings): Record<string, boolean> {
  return settings.frontchannelLogout
    ? { frontchannel_logout_supported: true, frontchannel_logout_session_supported: true }
    : {};
}

/** extraClientMetadata's check of the front-channel fields (also what dynamic registration meets). */
export function validateFrontchannelMetadata(key: string, value: unknown): void {
  if (value === undefined) return;
  if (key === 'frontchannel_logout_uri') {
    if (typeof value !== 'string') throw new Error('frontchannel_logout_uri must be a URL');
    try {
      checkRedirectUri(key, value);
    } catch (error) {
      if (error instanceof InvalidInputError) throw new Error(`${key}: ${error.message}`, { cause: error });
      throw error;
    }
  }
  if (key === 'frontchannel_logout_session_required' && typeof value !== 'boolean') {
    throw new Error('frontchannel_logout_session_required must be a boolean');
  }
}

type RegistrationPolicy = (ctx: KoaContextWithOIDC, metadata: ClientMetadata) => void | Promise<void>;

/**
 * Dynamic registration (RFC 7591) of a pairwise client meets the same sector check as an
 * admin's: its sector_identifier_uri must list its redirect URIs (OIDC Core §8.1).
 */
export function withSectorCheck(policy: RegistrationPolicy, check: SectorCheck): RegistrationPolicy {
  return async (ctx, metadata) => {
    await policy(ctx, metadata);
    const uri = metadata.sector_identifier_uri;
    if (uri === undefined) return;
    if (typeof uri !== 'string' || !uri.startsWith('https://'))
      throw new errors.InvalidClientMetadata('sector_identifier_uri: must be an https URL');
    const redirectUris = Array.isArray(metadata.redirect_uris) ? (metadata.redirect_uris as string[]) : [];
    try {
      await check(uri, redirectUris);
    } catch (error) {
      if (error instanceof InvalidInputError)
        throw new errors.InvalidClientMetadata(`${error.field}: ${error.message}`);
      throw error;
    }
  };
}
