import { InvalidInputError } from '../errors/domain-errors.js';
import { checkRedirectUri } from './redirect-uri.js';

/**
 * What the consent page shows of a client beyond its name (issue 21): its logo and the pages
 * of its privacy policy and terms, the registration metadata of OIDC Dynamic Client
 * Registration 1.0 §2 (`logo_uri`, `policy_uri`, `tos_uri`), which dynamically registered
 * clients send themselves and admins set here.
 */
export interface ClientLinksInput {
  logoUri?: string;
  policyUri?: string;
  tosUri?: string;
}

const FIELDS = { logoUri: 'logo_uri', policyUri: 'policy_uri', tosUri: 'tos_uri' } as const;

/** The fields that are set, checked (https, or http on loopback; no fragment or credentials), as metadata. */
export function linksMetadata(input: ClientLinksInput): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, field] of Object.entries(FIELDS) as Array<[keyof ClientLinksInput, string]>) {
    const value = input[key];
    if (!value) continue;
    if (value.length > 2000) throw new InvalidInputError(field, 'must be at most 2000 characters');
    metadata[field] = checkRedirectUri(field, value);
  }
  return metadata;
}

export function linksInputOf(metadata: Record<string, unknown>): ClientLinksInput {
  const input: ClientLinksInput = {};
  for (const [key, field] of Object.entries(FIELDS) as Array<[keyof ClientLinksInput, string]>) {
    const value = metadata[field];
    if (typeof value === 'string') input[key] = value;
  }
  return input;
}
