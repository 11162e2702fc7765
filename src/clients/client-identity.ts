import { InvalidInputError } from '../errors/domain-errors.js';
import { checkRedirectUri } from './redirect-uri.js';

/**
 * The client metadata of issue 19's identity and logout features, kept apart from
 * client-registry.ts: pairwise subjects (OIDC Core §8.1), front-channel logout (OIDC
 * Front-Channel Logout 1.0 §2) and signed userinfo (OIDC Core §5.3.2).
 */
export const SUBJECT_TYPES = ['public', 'pairwise'] as const;
/** Signed userinfo responses: the algorithms our signing keys offer (oidc/keys.ts). */
export const USERINFO_ALGS = ['ES256', 'RS256'] as const;

export interface ClientIdentityInput {
  /** 'pairwise': this client sees its own `sub` for each user (per sector). Absent: public. */
  subjectType?: string;
  /** https URL of a JSON array holding the redirect URIs of every client of one sector (OIDC Core §8.1). */
  sectorIdentifierUri?: string;
  /** Loaded in an iframe when a session ends (OIDC Front-Channel Logout 1.0 §2). */
  frontchannelLogoutUri?: string;
  /** Whether that iframe's URL carries `iss` and `sid`. */
  frontchannelLogoutSessionRequired?: boolean;
  /** A JWT userinfo response signed with this algorithm; absent: plain JSON. */
  userinfoSignedResponseAlg?: string;
}

function oneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InvalidInputError(field, `"${value}" is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** The sector a client's pairwise subjects belong to: what oidc-provider computes (lib/helpers/sector_identifier.js). */
export function sectorOf(metadata: Record<string, unknown>): string | undefined {
  if (metadata.subject_type !== 'pairwise') return undefined;
  const uri =
    typeof metadata.sector_identifier_uri === 'string'
      ? metadata.sector_identifier_uri
      : Array.isArray(metadata.redirect_uris) && typeof metadata.redirect_uris[0] === 'string'
        ? metadata.redirect_uris[0]
        : undefined;
  return uri ? new URL(uri).host : undefined;
}

/** Validated identity metadata, to be merged into the client's metadata. */
export function identityMetadata(input: ClientIdentityInput, redirectUris: readonly string[]): Record<string, unknown> {
  const subjectType = input.subjectType ? oneOf('subject_type', input.subjectType, SUBJECT_TYPES) : 'public';
  const sectorUri = input.sectorIdentifierUri || undefined;
  if (sectorUri !== undefined) {
    if (subjectType !== 'pairwise')
      throw new InvalidInputError('sector_identifier_uri', 'is used only with subject_type pairwise');
    // OIDC Core §8.1: fetched over TLS; oidc-provider's metadata schema refuses any other scheme.
    if (!sectorUri.startsWith('https://')) throw new InvalidInputError('sector_identifier_uri', 'must be an https URL');
    checkRedirectUri('sector_identifier_uri', sectorUri);
  }
  // OIDC Core §8.1: redirect URIs on several hosts need a sector_identifier_uri that lists them.
  if (subjectType === 'pairwise' && !sectorUri && new Set(redirectUris.map((u) => new URL(u).host)).size > 1) {
    throw new InvalidInputError('sector_identifier_uri', 'is needed when the redirect URIs are on more than one host');
  }
  if (subjectType === 'pairwise' && !sectorUri && redirectUris.length === 0) {
    throw new InvalidInputError('subject_type', 'pairwise needs a redirect URI or a sector_identifier_uri');
  }
  // Front-Channel Logout 1.0 §2: an absolute URL; https unless loopback, like redirect URIs.
  const frontchannel = input.frontchannelLogoutUri
    ? checkRedirectUri('frontchannel_logout_uri', input.frontchannelLogoutUri)
    : undefined;
  if (input.frontchannelLogoutSessionRequired && !frontchannel) {
    throw new InvalidInputError('frontchannel_logout_session_required', 'needs a front-channel logout URI');
  }
  const userinfoAlg = input.userinfoSignedResponseAlg
    ? oneOf('userinfo_signed_response_alg', input.userinfoSignedResponseAlg, USERINFO_ALGS)
    : undefined;
  return {
    subject_type: subjectType,
    ...(sectorUri ? { sector_identifier_uri: sectorUri } : {}),
    ...(frontchannel
      ? {
          frontchannel_logout_uri: frontchannel,
          frontchannel_logout_session_required: input.frontchannelLogoutSessionRequired === true,
        }
      : {}),
    ...(userinfoAlg ? { userinfo_signed_response_alg: userinfoAlg } : {}),
  };
}

/** The identity input that would rebuild stored metadata. */
export function identityInputOf(m: Record<string, unknown>): ClientIdentityInput {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    subjectType: text(m.subject_type) ?? 'public',
    sectorIdentifierUri: text(m.sector_identifier_uri),
    frontchannelLogoutUri: text(m.frontchannel_logout_uri),
    frontchannelLogoutSessionRequired: m.frontchannel_logout_session_required === true,
    userinfoSignedResponseAlg: text(m.userinfo_signed_response_alg),
  };
}
