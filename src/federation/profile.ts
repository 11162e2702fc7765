import { z } from 'zod';
import type { Connection, RoleRule } from './connection.js';
import type { UpstreamSettings } from './presets.js';
import type { UpstreamClaims } from './upstream.js';
import { FederationError } from './errors.js';

/** The person as the upstream describes them, read through the connection's claim mapping. */
export interface UpstreamProfile {
  subject: string;
  email: string | null;
  /** What the upstream says; whether Gatehouse believes it is `emailCounts`. */
  emailVerified: boolean;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  picture: string | null;
  groups: string[];
  amr: string[];
  acr: string | null;
}

const text = (value: unknown, max: number): string | null => {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  // PostgreSQL text cannot hold U+0000; a value longer than the column is not one we keep.
  return trimmed && !trimmed.includes('\u0000') && trimmed.length <= max ? trimmed : null;
};

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export function readProfile(settings: UpstreamSettings, claims: UpstreamClaims): UpstreamProfile {
  const map = settings.claims;
  const subject = text(claims[map.subject], 255);
  if (!subject) throw new FederationError('upstream_error', 'the upstream named no subject for the person');
  const email = text(claims[map.email], 320);
  const verified = claims[map.emailVerified];
  const name =
    text(claims[map.name], 200) ??
    text(claims.preferred_username, 200) ??
    text(claims.login, 200) ??
    text(claims.username, 200);
  return {
    subject,
    email: email && EMAIL.test(email) ? email : null,
    // Apple sends "true" as a string.
    emailVerified: verified === true || verified === 'true',
    name,
    givenName: text(claims[map.givenName], 200),
    familyName: text(claims[map.familyName], 200),
    picture: text(claims[map.picture], 2048),
    groups: strings(claims[map.groups]),
    amr: strings(claims.amr),
    acr: text(claims.acr, 200),
  };
}

/**
 * The checks a preset adds to openid-client's: Entra ID's multi-tenant issuer against the
 * token's `tid` (a token from any tenant is signed by the same keys, so only `tid` tells them
 * apart), a named tenant's `tid`, Google Workspace's `hd`.
 */
export function checkPresetClaims(settings: UpstreamSettings, claims: UpstreamClaims): void {
  const tid = typeof claims.tid === 'string' ? claims.tid : undefined;
  if (settings.tenantIssuerTemplate) {
    if (!tid || claims.iss !== settings.tenantIssuerTemplate.replace('{tenantid}', tid)) {
      throw new FederationError('issuer_mismatch', "the ID token's issuer is not its tenant's");
    }
  }
  if (settings.tenantId && tid?.toLowerCase() !== settings.tenantId) {
    throw new FederationError('issuer_mismatch', 'the ID token is from another tenant');
  }
  if (settings.hostedDomain && claims.hd !== settings.hostedDomain) {
    throw new FederationError('domain_not_allowed', "the Google account is not in the connection's Workspace domain");
  }
}

const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

/** The address counts only when the upstream verified it AND the connection trusts the upstream's word. */
export function emailCounts(
  connection: Connection,
  profile: UpstreamProfile,
): profile is UpstreamProfile & { email: string } {
  return profile.email !== null && profile.emailVerified && connection.trustEmailVerification;
}

/** A connection restricted to domains lets in only addresses there that count (an unverified one proves nothing). */
export function checkAllowedDomain(connection: Connection, profile: UpstreamProfile): void {
  if (connection.allowedEmailDomains.length === 0) return;
  if (!emailCounts(connection, profile) || !connection.allowedEmailDomains.includes(domainOf(profile.email))) {
    throw new FederationError(
      'domain_not_allowed',
      "the upstream account's address is not at a domain this connection allows",
    );
  }
}

/** The roles a new account gets: every rule whose group the upstream names, or whose domain its (counted) address is at. */
export function mappedRoles(rules: RoleRule[], connection: Connection, profile: UpstreamProfile): string[] {
  const domain = emailCounts(connection, profile) ? domainOf(profile.email) : null;
  const roles = rules
    .filter((rule) => ('group' in rule ? profile.groups.includes(rule.group) : rule.emailDomain === domain))
    .map((rule) => rule.role);
  return [...new Set(roles)];
}

/**
 * What the web layer records as the sign-in's `amr` (RFC 8176): `fed`, plus `mfa` when the
 * connection trusts the upstream's MFA and the upstream says it did some (its `amr` holds
 * `mfa`, or its `acr` is one the admin listed).
 */
export function signInAmr(connection: Connection, profile: UpstreamProfile): string[] {
  const upstreamMfa =
    profile.amr.includes('mfa') || (profile.acr !== null && connection.mfaAcrValues.includes(profile.acr));
  return connection.trustUpstreamMfa && upstreamMfa ? ['fed', 'mfa'] : ['fed'];
}

/** Domains compared as the home-realm list holds them. */
export const emailDomain = domainOf;

const appleUserSchema = z.object({
  name: z.object({ firstName: z.string().optional(), lastName: z.string().optional() }).optional(),
});

/**
 * Sign in with Apple sends the person's name once, on the first authorization, in the
 * form_post's `user` field (JSON: `{"name":{"firstName","lastName"},"email"}`), never in the ID
 * token. It is not signed: only the name is taken from it, never the address or anything that
 * decides who the person is, and only where the upstream's claims named nobody.
 */
export function withFirstCallbackName(
  settings: Pick<UpstreamSettings, 'responseMode'>,
  profile: UpstreamProfile,
  user: string | undefined,
): UpstreamProfile {
  if (settings.responseMode !== 'form_post' || !user || user.length > 4096) return profile;
  let parsed: z.infer<typeof appleUserSchema>;
  try {
    parsed = appleUserSchema.parse(JSON.parse(user));
  } catch {
    return profile;
  }
  const givenName = profile.givenName ?? text(parsed.name?.firstName, 200);
  const familyName = profile.familyName ?? text(parsed.name?.lastName, 200);
  const joined = [givenName, familyName].filter(Boolean).join(' ');
  return { ...profile, givenName, familyName, name: profile.name ?? text(joined, 200) };
}
