import { z } from 'zod';
import { isLoopbackHost } from './loopback.js';
import { OIDC_SCOPES } from './oidc-scopes.js';
import { flowsSchema } from './flows-schema.js';

/**
 * The one schema for Gatehouse settings. Defaults and their documentation live in
 * config/default.yaml; this schema only says what a valid value is, strictly, so that a
 * misspelt key fails the boot instead of being ignored.
 */
const seconds = z.number().int().positive();

/** One or more `/segment`s of unreserved characters (RFC 3986 §2.3), none of them `.` or `..`. */
const ISSUER_PATH = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._~-]+)+$/;

/** The path as written, before URL parsing resolves `..` or encodes what it must. */
const writtenPath = (value: string): string => /^[^:]+:\/\/[^/?#]*(.*)$/.exec(value)?.[1] ?? '';

/**
 * An origin, or an origin and a path prefix under which everything Gatehouse serves is mounted
 * (`https://id.example.com/auth`, src/http/base-path.ts); https unless on loopback. The value is
 * the `iss` of every token, compared exactly by relying parties, so it is refused rather than
 * rewritten: no trailing slash, query or fragment, and a path of plain segments (letters,
 * digits, `-`, `.`, `_`, `~`; no `.` or `..`), spelt as written (docs/decisions.md).
 */
const issuer = z.url({ protocol: /^https?$/ }).superRefine((value, ctx) => {
  const url = new URL(value);
  if (url.search || url.hash || value.includes('?') || value.includes('#') || value.endsWith('/')) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be an origin or origin/path without a trailing slash, query or fragment',
    });
  } else if (writtenPath(value) !== '' && !ISSUER_PATH.test(writtenPath(value))) {
    ctx.addIssue({
      code: 'custom',
      message:
        'must have a path of plain segments (letters, digits, "-", ".", "_", "~"), as in https://id.example.com/auth',
    });
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    ctx.addIssue({ code: 'custom', message: 'must use https unless it is a loopback address' });
  }
});

/** OAuth scope tokens (RFC 6749 §3.3), without the OpenID scopes Gatehouse defines itself. */
const resourceScope = z
  .string()
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/, 'must be a scope token (no spaces or quotes)')
  .refine((v) => !(OIDC_SCOPES as readonly string[]).includes(v), 'must not be an OpenID scope');

/** An API that gets JWT access tokens through a resource indicator (RFC 8707, RFC 9068). */
const resource = z.strictObject({
  // RFC 8707 §2: an absolute URI without a fragment.
  indicator: z.url({ protocol: /^https$/ }).refine((v) => !v.includes('#'), 'must not contain a fragment'),
  audience: z.string().min(1).optional(),
  scopes: z.array(resourceScope).min(1),
  accessTokenTtl: seconds,
  format: z.literal('jwt'),
});

/** One rate limit: at most `points` requests per key in a fixed window of `durationSeconds`. */
const ratePolicy = z.strictObject({
  points: z.number().int().min(1).max(1_000_000),
  durationSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 86_400),
});

/**
 * A colour the brand stylesheet sets as a CSS custom property: hex only, so that no value can
 * close the declaration and inject CSS (the stylesheet is generated from these strings).
 */
const hexColour = z.string().regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'must be a hex colour such as #1f5fbf');

/**
 * The logo: an https URL (the Content-Security-Policy then allows images from its origin) or
 * a path on this server; never javascript:, data: or a protocol-relative //host.
 */
const logoUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    if (value === '') return true;
    if (value.startsWith('/')) return /^\/(?![/\\])[\w\-./~%]*$/.test(value);
    try {
      const url = new URL(value);
      return url.protocol === 'https:' && !url.username && !url.password;
    } catch {
      return false;
    }
  }, 'must be an https:// URL or a path starting with / (or empty)');

/** A URL Gatehouse posts secrets or codes to: https, or http on a loopback host (tests, a local gateway). */
const gatewayUrl = z.union([z.literal(''), z.url({ protocol: /^https?$/ })]).refine((value) => {
  if (value === '') return true;
  const url = new URL(value);
  return (url.protocol === 'https:' || isLoopbackHost(url.hostname)) && !url.username && !url.password;
}, 'must be an https:// URL (http only on a loopback host) without credentials');

/** One-time codes and sign-in links by email and SMS (issue 18, docs/factors.md). */
const codes = z.strictObject({
  // Email sign-in without a password (a link or a code): the deployment's switch; a client's
  // gatehouse_email_sign_in: false turns it off for that client alone.
  emailSignIn: z.boolean(),
  // An emailed code as a second factor.
  emailSecondFactor: z.boolean(),
  // Digits of a code (NIST SP 800-63B §5.1.3: at least 6 for an out-of-band secret).
  codeLength: z.number().int().min(6).max(8),
  codeTtlSeconds: z.number().int().min(60).max(3600),
  linkTtlSeconds: z.number().int().min(60).max(3600),
  // Wrong guesses one code takes before it is void.
  maxAttempts: z.number().int().min(1).max(10),
});

/** The SMS second factor and where its messages go (issue 18, docs/factors.md). */
const sms = z
  .strictObject({
    // SMS as a second factor at all (NIST SP 800-63B §5.1.3.3, a restricted authenticator); a
    // client's gatehouse_sms: false turns it off for that client alone.
    enabled: z.boolean(),
    // ISO 3166-1 alpha-2 regions a number may belong to (toll fraud: premium-rate destinations).
    allowedCountries: z
      .array(z.string().regex(/^[A-Za-z]{2}$/, 'must be a two-letter country code such as DE'))
      .min(1)
      .transform((list) => list.map((c) => c.toUpperCase())),
    // The region a number typed without its +country code is read in on /account (ISO 3166-1
    // alpha-2, one of allowedCountries); empty: every number must start with +.
    defaultCountry: z
      .string()
      .regex(/^$|^[A-Za-z]{2}$/, 'must be a two-letter country code such as DE, or empty')
      .transform((c) => c.toUpperCase()),
    transport: z.enum(['outbox', 'webhook', 'twilio']),
    webhook: z.strictObject({
      url: gatewayUrl,
      // HMAC-SHA256 key of the X-Gatehouse-Signature header (env SMS_WEBHOOK_SECRET).
      secret: z.string().refine((v) => v === '' || v.length >= 32, 'must be at least 32 characters'),
      timeoutMs: z.number().int().min(100).max(60_000),
      attempts: z.number().int().min(1).max(10),
      initialDelayMs: z.number().int().min(0).max(60_000),
    }),
    twilio: z.strictObject({
      baseUrl: gatewayUrl,
      accountSid: z.string().regex(/^$|^AC[0-9a-fA-F]{32}$/, 'must be a Twilio account SID (AC + 32 hex digits)'),
      // env TWILIO_AUTH_TOKEN
      authToken: z.string(),
      // A sender number in E.164, or a messaging service SID (MG…).
      from: z.string().regex(/^$|^\+[1-9]\d{6,14}$|^MG[0-9a-fA-F]{32}$/, 'must be an E.164 number or a MG… SID'),
      timeoutMs: z.number().int().min(100).max(60_000),
    }),
  })
  .superRefine((value, ctx) => {
    const need = (path: string[], present: boolean, message: string) => {
      if (!present) ctx.addIssue({ code: 'custom', path, message });
    };
    if (value.transport === 'webhook') {
      need(['webhook', 'url'], value.webhook.url !== '', 'is required when sms.transport is webhook');
      need(['webhook', 'secret'], value.webhook.secret !== '', 'is required when sms.transport is webhook');
    }
    need(
      ['defaultCountry'],
      value.defaultCountry === '' || value.allowedCountries.includes(value.defaultCountry),
      'must be one of sms.allowedCountries',
    );
    if (value.transport === 'twilio') {
      need(['twilio', 'baseUrl'], value.twilio.baseUrl !== '', 'is required when sms.transport is twilio');
      need(['twilio', 'accountSid'], value.twilio.accountSid !== '', 'is required when sms.transport is twilio');
      need(['twilio', 'authToken'], value.twilio.authToken !== '', 'is required when sms.transport is twilio');
      need(['twilio', 'from'], value.twilio.from !== '', 'is required when sms.transport is twilio');
    }
  });

export const configSchema = z
  .strictObject({
    issuer,
    http: z.strictObject({
      host: z.string().min(1),
      port: z.number().int().min(0).max(65535),
      // Proxies in front that each append their peer's address to X-Forwarded-For; the client
      // address is the one the outermost of them added (src/http/proxy-trust.ts). More than a
      // few is a mistake: every hop too many lets a client write its own address again.
      trustedProxyHops: z
        .number()
        .int()
        .min(0)
        .max(10, 'must be at most 10 (count only the proxies in front that append to X-Forwarded-For)'),
    }),
    storage: z.strictObject({
      dataDir: z.string().min(1),
      databaseUrl: z
        .string()
        .refine((v) => v === '' || /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL or empty'),
      // Two at least: the migration lock holds one connection while the migrations run on another
      // (with one, every boot waited for a connection that never came free).
      poolSize: z.number().int().min(2, 'must be at least 2').max(200),
      redisUrl: z.string().refine((v) => v === '' || /^rediss?:\/\//.test(v), 'must be a redis:// URL or empty'),
      // Keeps deployments that share one Redis apart; every replica of one deployment uses the same.
      redisKeyPrefix: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}:$/, 'must be 1-64 letters, digits, ".", "_" or "-", ending in ":"'),
      purgeIntervalSeconds: seconds,
      // Bounds every PostgreSQL statement, so a stuck or half-dead server cannot hold a request.
      statementTimeoutSeconds: seconds,
      // Named (prepared) statements on PostgreSQL; off behind a pooler that cannot keep them (docs/storage.md).
      preparedStatements: z.boolean(),
    }),
    keys: z
      .strictObject({
        encryptionSecret: z
          .string()
          .refine((v) => v === '' || Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded'),
        reloadIntervalSeconds: seconds,
        activationDelaySeconds: z.number().int().min(0),
      })
      .refine(
        // A replica learns of new keys up to one reload interval after they commit, plus the time
        // the reload itself takes: a delay not longer than the interval lets one replica sign with
        // a key another cannot verify yet (docs/operations.md, "Key rotation across replicas").
        (keys) => keys.activationDelaySeconds <= 0 || keys.activationDelaySeconds > keys.reloadIntervalSeconds,
        {
          message: 'must be 0 (a single process) or longer than keys.reloadIntervalSeconds',
          path: ['activationDelaySeconds'],
        },
      ),
    passwords: z.strictObject({
      argon2: z.strictObject({
        memoryKiB: z.number().int().min(8192),
        timeCost: z.number().int().min(1),
        parallelism: z.number().int().min(1).max(16),
      }),
    }),
    rateLimits: z.strictObject({
      signInIp: ratePolicy,
      signInIpAttempts: ratePolicy,
      signInAccount: ratePolicy,
      secondFactorAccount: ratePolicy,
      passkeyIp: ratePolicy,
      passwordResetIp: ratePolicy,
      passwordResetEmailIp: ratePolicy,
      passwordResetEmailCap: ratePolicy,
      signUpIp: ratePolicy,
      accountMail: ratePolicy,
      tokenClient: ratePolicy,
      // Codes and sign-in links by email and SMS (docs/abuse-protection.md, "Codes by email and SMS").
      codeIp: ratePolicy,
      codeAddress: ratePolicy,
      codeResend: ratePolicy,
      smsAccount: ratePolicy,
      smsNumber: ratePolicy,
      smsDaily: ratePolicy,
      deviceUserCodeIp: ratePolicy,
    }),
    lockout: z
      .strictObject({
        freeFailures: z.number().int().min(1).max(1000),
        accountFreeFailures: z.number().int().min(1).max(100_000),
        baseDelaySeconds: z.number().int().min(1).max(3600),
        maxDelaySeconds: z.number().int().min(1).max(86_400),
        failureMemorySeconds: z
          .number()
          .int()
          .min(60)
          .max(30 * 86_400),
        trustedIpDays: z.number().int().min(0).max(365),
      })
      .superRefine((lockout, ctx) => {
        if (lockout.maxDelaySeconds < lockout.baseDelaySeconds) {
          ctx.addIssue({ code: 'custom', path: ['maxDelaySeconds'], message: 'must be at least baseDelaySeconds' });
        }
        if (lockout.accountFreeFailures < lockout.freeFailures) {
          ctx.addIssue({
            code: 'custom',
            path: ['accountFreeFailures'],
            message: 'must be at least freeFailures (failures from one address count for the account too)',
          });
        }
      }),
    passwordPolicy: z.strictObject({
      minLength: z.number().int().min(8).max(64),
      maxLength: z.number().int().min(128).max(1024),
    }),
    passwordReset: z.strictObject({
      linkTtlSeconds: z.number().int().min(300).max(86_400),
    }),
    mfa: z.strictObject({
      policy: z.enum(['optional', 'required']),
      reauthenticationSeconds: seconds,
      totpIssuer: z
        .string()
        .min(1)
        .max(100)
        .refine((v) => !v.includes(':'), 'must not contain ":"'),
    }),
    acr: z
      .strictObject({
        password: z.string().min(1),
        mfa: z.string().min(1),
        phishingResistant: z.string().min(1),
      })
      .refine((acr) => new Set(Object.values(acr)).size === 3, 'the three acr values must differ'),
    webauthn: z.strictObject({
      rpId: z.string(),
      rpName: z.string().min(1),
      origins: z.array(z.url({ protocol: /^https?$/ })),
      challengeTtlSeconds: z.number().int().min(30).max(900),
    }),
    ttl: z.strictObject({
      authorizationCode: z.number().int().min(1).max(600),
      accessToken: seconds,
      clientCredentials: seconds,
      idToken: seconds,
      refreshToken: seconds,
      interaction: seconds,
      grant: seconds,
    }),
    sessions: z
      .strictObject({
        absoluteLifetimeSeconds: seconds,
        idleTimeoutSeconds: seconds,
        rememberByDefault: z.boolean(),
        backchannelLogout: z.strictObject({
          attempts: z.number().int().min(1).max(20),
          initialDelaySeconds: z.number().min(0.1).max(3600),
          backoffFactor: z.number().min(1).max(10),
        }),
      })
      .refine((s) => s.idleTimeoutSeconds <= s.absoluteLifetimeSeconds, {
        path: ['idleTimeoutSeconds'],
        message: 'must not exceed absoluteLifetimeSeconds',
      }),
    resources: z.array(resource).superRefine((list, ctx) => {
      list.forEach((r, index) => {
        if (list.findIndex((o) => o.indicator === r.indicator) !== index) {
          ctx.addIssue({ code: 'custom', path: [index, 'indicator'], message: `${r.indicator} is listed twice` });
        }
      });
    }),
    flows: flowsSchema,
    registration: z.strictObject({
      enabled: z.boolean(),
      requireApproval: z.boolean(),
      initialAccessTokenTtlSeconds: seconds,
      policy: z.strictObject({
        // The device code grant (RFC 8628) only where a deployment lists it; with the device flow
        // switched off, oidc-provider refuses it at registration (docs/registration.md).
        grantTypes: z
          .array(
            z.enum([
              'authorization_code',
              'refresh_token',
              'client_credentials',
              'urn:ietf:params:oauth:grant-type:device_code',
            ]),
          )
          .min(1),
        scopes: z.array(z.enum(OIDC_SCOPES)).min(1),
        authMethods: z.array(z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])).min(1),
        maxRedirectUris: z.number().int().min(1).max(100),
      }),
    }),
    // OpenID Connect identity and logout features (issue 19, docs/protocol.md), each one a switch.
    identity: z.strictObject({
      pairwiseSubjects: z.boolean(),
      claimsParameter: z.boolean(),
      signedUserinfo: z.boolean(),
      frontchannelLogout: z.boolean(),
    }),
    signUp: z.strictObject({
      enabled: z.boolean(),
      // Domains as typed in an address after the @ (compared lower-cased, exact match only).
      allowedEmailDomains: z
        .array(
          z
            .string()
            .regex(/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, 'must be a domain name such as example.com'),
        )
        .transform((domains) => domains.map((d) => d.toLowerCase())),
      requireEmailVerification: z.boolean(),
      verificationLinkTtlSeconds: z
        .number()
        .int()
        .min(300)
        .max(30 * 86_400),
    }),
    federation: z.strictObject({
      // Bounds every request to an upstream identity provider (discovery, token, userinfo, JWKS):
      // a slow or silent upstream ends the sign-in attempt with a clear page, not a hung request.
      upstreamTimeoutMs: z.number().int().min(100).max(60_000),
    }),
    codes,
    sms,
    mail: z.strictObject({
      smtpUrl: z
        .string()
        .refine((v) => v === '' || /^smtps?:\/\//.test(v), 'must be an smtp:// or smtps:// URL or empty'),
      from: z.string().min(3).max(320),
    }),
    branding: z.strictObject({
      // Shown in every page's header and title, and in account mail.
      productName: z
        .string()
        .trim()
        .min(1)
        .max(60)
        .regex(/^[^\p{Cc}<>]*$/u, 'must be plain text without control characters or < >'),
      logoUrl,
      colours: z.strictObject({
        primary: hexColour,
        primaryText: hexColour,
        background: hexColour,
        surface: hexColour,
        text: hexColour,
      }),
    }),
    admin: z.strictObject({
      consoleMfa: z.enum(['optional', 'required']),
    }),
    audit: z.strictObject({
      retentionDays: z.number().int().min(0).max(36500),
    }),
    log: z.strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    }),
    metrics: z.strictObject({
      enabled: z.boolean(),
      // 0 = the main listener's /metrics; otherwise a listener of its own on http.host.
      port: z.number().int().min(0).max(65535),
    }),
    shutdown: z.strictObject({
      graceSeconds: z.number().int().min(1).max(3600),
    }),
  })
  .superRefine((config, ctx) => {
    // WebAuthn §5.1.4.1/§13.4.9: the RP ID must be the page's host or a parent domain of it, and
    // browsers refuse IP addresses; each allowed origin must sit under the RP ID.
    const host = new URL(config.issuer).hostname;
    const rpId = config.webauthn.rpId || host;
    const under = (name: string) => name === rpId || name.endsWith(`.${rpId}`);
    if (config.webauthn.rpId && !under(host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['webauthn', 'rpId'],
        message: `must be the issuer's host name (${host}) or a parent domain of it`,
      });
    }
    if (config.metrics.enabled && config.metrics.port !== 0 && config.metrics.port === config.http.port) {
      ctx.addIssue({
        code: 'custom',
        path: ['metrics', 'port'],
        message: 'must differ from http.port (0 serves /metrics on the main port)',
      });
    }
    config.webauthn.origins.forEach((origin, index) => {
      if (!under(new URL(origin).hostname)) {
        ctx.addIssue({
          code: 'custom',
          path: ['webauthn', 'origins', index],
          message: `must be on ${rpId} or one of its subdomains`,
        });
      }
    });
  });

export type Config = z.infer<typeof configSchema>;

/** A partial config, as tests and override files give it. */
export type ConfigOverrides = { [K in keyof Config]?: Config[K] extends object ? Partial<Config[K]> : Config[K] };
