import { z } from 'zod';
import { InvalidInputError } from '../errors/domain-errors.js';
import { isLoopbackHost } from '../config/loopback.js';
import { ROLE_NAME } from '../roles/role-fields.js';

/** The providers Gatehouse knows the settings of; `custom` is any OpenID or OAuth 2 server. */
export const PRESETS = ['custom', 'google', 'microsoft', 'github', 'gitlab', 'discord', 'apple'] as const;

/** How Gatehouse authenticates at the upstream's token endpoint (`apple`: a signed JWT as the secret, presets.ts). */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/**
 * An upstream URL: https, or http only on this machine (RFC 8252 §8.3's loopback rule, as
 * the issuer check uses it): tests and a developer's local provider, never a network hop in
 * clear text. No credentials in it, no fragment.
 */
const upstreamUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      if (url.username || url.password || url.hash) return false;
      return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
    } catch {
      return false;
    }
  }, 'must be an https:// URL (http:// only for localhost), without credentials or fragment');

const domain = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, 'must be a domain name such as example.com')
  .transform((d) => d.toLowerCase());

/** A claim name of the upstream's ID token or user info (GitHub's `id`, Discord's `verified`). */
const claimName = z.string().regex(/^[A-Za-z0-9_:.@-]{1,100}$/, 'must be a claim name');

const claimMapping = z
  .strictObject({
    subject: claimName,
    email: claimName,
    emailVerified: claimName,
    name: claimName,
    givenName: claimName,
    familyName: claimName,
    picture: claimName,
    groups: claimName,
  })
  .partial();
export type ClaimMapping = Required<z.infer<typeof claimMapping>>;

const roleName = z.string().regex(ROLE_NAME, 'must be a role name (letters, digits and _ . : -, at most 100)');

/** Rules that give a new account roles: a group the upstream names it in, or its address's domain. */
const roleRule = z.union([
  z.strictObject({ group: z.string().min(1).max(200), role: roleName }),
  z.strictObject({ emailDomain: domain, role: roleName }),
]);
export type RoleRule = z.infer<typeof roleRule>;

/** A PEM private key (PKCS #8), as Apple and private_key_jwt clients are given them. */
const pemKey = z
  .string()
  .max(10_000)
  .regex(
    /^\s*-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----\s*$/,
    'must be a PEM private key (BEGIN PRIVATE KEY)',
  );

/** What each preset may be tuned with; every URL a preset derives can be overridden too. */
const presetOptions = z
  .strictObject({
    /** Google: the Workspace domain (`hd`); the ID token's `hd` claim must then match. */
    hostedDomain: domain,
    /** Microsoft Entra ID: a tenant id or domain, or `common` / `organizations` / `consumers`. */
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,100}$/, 'must be a tenant id, a domain, common, organizations or consumers'),
    /** GitHub Enterprise, self-managed GitLab, Microsoft's or Discord's host: where the preset's URLs start. */
    baseUrl: upstreamUrl,
    /** GitHub: the REST API's root (GitHub Enterprise: <base>/api/v3). */
    apiUrl: upstreamUrl,
    /** Apple: the team id and the id of the Sign in with Apple key (its private key is `privateKey`). */
    teamId: z.string().regex(/^[A-Z0-9]{10}$/, 'must be the 10-character Apple team id'),
    keyId: z.string().regex(/^[A-Z0-9]{10}$/, 'must be the 10-character Apple key id'),
  })
  .partial();

/** A connection id: a slug, in the redirect URI and the `upstream=` hint. */
const CONNECTION_ID = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/**
 * A connection as an admin writes it (admin API, console, CLI). The secret and private key are
 * write-only: accepted here, sealed at rest, never returned.
 */
const connectionInputSchema = z.strictObject({
  id: z
    .string()
    .regex(CONNECTION_ID, 'must be 1-64 lower-case letters, digits and -, starting and ending with a letter or digit'),
  displayName: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[^\p{Cc}<>]*$/u, 'must be plain text without control characters or < >'),
  preset: z.enum(PRESETS).default('custom'),
  /** Required for a custom connection; a preset knows its own. */
  kind: z.enum(['oidc', 'oauth2']).optional(),
  issuer: upstreamUrl.optional(),
  authorizationEndpoint: upstreamUrl.optional(),
  tokenEndpoint: upstreamUrl.optional(),
  userinfoEndpoint: upstreamUrl.optional(),
  clientId: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters'),
  clientAuthMethod: z.enum(CLIENT_AUTH_METHODS).optional(),
  clientSecret: z.string().min(1).max(4096).optional(),
  privateKey: pemKey.optional(),
  /** The key id (`kid`) the upstream knows the private_key_jwt key by. */
  privateKeyId: z.string().min(1).max(200).optional(),
  /** Scopes to ask for; a preset's own when absent. */
  scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/, 'must be a scope token (RFC 6749 §3.3)'))
    .max(50)
    .optional(),
  claimMapping: claimMapping.default({}),
  enabled: z.boolean().default(true),
  order: z.number().int().min(0).max(10_000).default(0),
  /** An icon shipped with Gatehouse (a preset's own when null). */
  icon: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, 'must be the name of an icon shipped with Gatehouse')
    .nullable()
    .default(null),
  /** Only addresses at these domains may sign in through it (verified addresses only); empty = any. */
  allowedEmailDomains: z.array(domain).max(100).default([]),
  /** Home-realm discovery: an address at one of these domains goes straight to this connection. */
  homeRealmDomains: z.array(domain).max(100).default([]),
  createAccounts: z.boolean().default(false),
  /** The upstream's email_verified counts (a new account's address is then verified, and a matching account may be linked after proof). */
  trustEmailVerification: z.boolean().default(false),
  /** The upstream's MFA counts as Gatehouse's second factor: its `amr` holding `mfa`, or its `acr` being one of mfaAcrValues. */
  trustUpstreamMfa: z.boolean().default(false),
  mfaAcrValues: z.array(z.string().min(1).max(200)).max(20).default([]),
  /** The clients whose sign-in page offers it; null = every client. */
  allowedClients: z.array(z.string().min(1).max(255)).max(1000).nullable().default(null),
  roleRules: z.array(roleRule).max(100).default([]),
  /** Signing out of Gatehouse also signs out at an OIDC upstream with an end_session_endpoint. */
  upstreamSignOut: z.boolean().default(false),
  options: presetOptions.default({}),
});

export type ConnectionInput = z.input<typeof connectionInputSchema>;
type ParsedInput = z.output<typeof connectionInputSchema>;

/** A connection as the domain keeps it: everything but the secret, and whether it has one. */
export interface Connection extends Omit<ParsedInput, 'clientSecret' | 'privateKey' | 'kind'> {
  kind: 'oidc' | 'oauth2';
  hasSecret: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A validated input: the connection's settings, and the secret to seal when one was given. */
export interface ValidConnection {
  settings: ParsedInput;
  /** The client secret or private key, when this input gives one. */
  secret: string | undefined;
}

/** userInfoEndpoint → userinfo_endpoint; roleRules.0.role → role_rules.0.role. */
function fieldName(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => String(p).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)).join('.') || 'connection';
}

/** The input's shape and per-field rules; the rules across fields are the preset's (presets.ts). */
export function parseConnectionInput(input: unknown): ValidConnection {
  const parsed = connectionInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(fieldName(issue?.path ?? []), issue?.message ?? 'is invalid');
  }
  const settings = parsed.data;
  return { settings, secret: settings.privateKey ?? settings.clientSecret };
}
