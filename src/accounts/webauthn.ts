import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Config } from '../config/schema.js';
import type { CredentialsRepository } from '../storage/credentials.repository.js';
import type { CredentialRow } from '../storage/entities/credential.entity.js';
import type { KeyValueStore } from '../storage/key-value-store.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import type { Storage } from '../storage/storage.js';
import type { WebAuthnUse } from './authentication-level.js';
import { parseJsonAs } from '../typed-json.js';

/**
 * WebAuthn (W3C Web Authentication Level 3) with @simplewebauthn/server: registration of
 * passkeys and security keys, passkey sign-in as the only factor, and a registered key as
 * the second factor. No HTTP here; the routes pass a `binding` that says what a challenge
 * belongs to (an interaction uid, an account-page session).
 */

/**
 * The library is loaded on the first ceremony, not at boot: it and its ASN.1/COSE
 * dependencies hold about 25 MB of resident memory in a process that may never see a passkey
 * (measured with `npm run bench:startup`, docs/benchmarks.md).
 */
let library: Promise<typeof import('@simplewebauthn/server')> | undefined;
const webauthnLibrary = () => (library ??= import('@simplewebauthn/server'));

/** A passkey is discoverable and meant to sign in alone; a security key is a second factor. */
export type WebAuthnKind = 'passkey' | 'security_key';

/** What a challenge was issued for; a response is accepted only for the same purpose. */
type Purpose = 'register' | 'passkey' | 'second_factor';

/** What is stored under an issued challenge; one that does not parse (an older release's) is no challenge. */
const storedChallengeSchema = z.object({
  purpose: z.enum(['register', 'passkey', 'second_factor']),
  /** The user the ceremony is for; absent for a username-less passkey sign-in. */
  userId: z.string().optional(),
  kind: z.enum(['passkey', 'security_key']).optional(),
});
type StoredChallenge = z.infer<typeof storedChallengeSchema>;

/** What the account page needs to know about a registered key. */
export interface WebAuthnKey {
  id: string;
  label: string;
  kind: WebAuthnKind;
  createdAt: Date;
  lastUsedAt: Date | null;
  /** Synced between devices by its provider (backup eligible or backed up). */
  synced: boolean;
}

/** Why a ceremony was refused; the routes turn each into a message. */
export type WebAuthnRefusal =
  /** The response is not a WebAuthn response (bad JSON shape). */
  | 'malformed'
  /** No live challenge for this binding and purpose: expired, already used, or issued elsewhere. */
  | 'challenge'
  /** No registered credential has this id (or its user is disabled). */
  | 'unknown_credential'
  /** The credential belongs to someone other than the user of this ceremony. */
  | 'wrong_user'
  /** Signature, origin, RP ID, type or user-verification check failed. */
  | 'invalid'
  /** The signature counter did not move forward: a possibly cloned authenticator. */
  | 'counter_regressed'
  /** This credential is already registered. */
  | 'duplicate';

export type Refused = { ok: false; reason: WebAuthnRefusal };
export type Registered = { ok: true; key: WebAuthnKey };
export type Authenticated = { ok: true; userId: string; use: WebAuthnUse; credentialId: string };

const base64url = z
  .string()
  .regex(/^[A-Za-z0-9_-]+={0,2}$/)
  .max(16_384);
const extensions = z.object({}).loose();

/** The JSON @simplewebauthn/browser's startRegistration() gives (WebAuthn L3 RegistrationResponseJSON). */
const registrationResponseSchema = z.object({
  id: base64url.max(1400),
  rawId: base64url.max(1400),
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: extensions,
  response: z.object({
    clientDataJSON: base64url,
    attestationObject: base64url,
    authenticatorData: base64url.optional(),
    transports: z.array(z.string().max(32)).max(10).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url.optional(),
  }),
});

/** The JSON startAuthentication() gives (AuthenticationResponseJSON). */
const authenticationResponseSchema = z.object({
  id: base64url.max(1400),
  rawId: base64url.max(1400),
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: extensions,
  response: z.object({
    clientDataJSON: base64url,
    authenticatorData: base64url,
    signature: base64url,
    userHandle: base64url.max(128).optional(),
  }),
});

const clientDataSchema = z.object({ challenge: base64url.max(128) }).loose();

/** The challenge the browser signed, read from clientDataJSON (WebAuthn §5.8.1) to find its record. */
function challengeOf(clientDataJSON: string): string | undefined {
  try {
    const parsed = clientDataSchema.safeParse(JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data.challenge : undefined;
  } catch {
    return undefined;
  }
}

/** RP ID and origins from config, defaulting from the issuer (WebAuthn §5.1.2, §13.4.9). */
export function relyingParty(config: Pick<Config, 'issuer' | 'webauthn'>): {
  id: string;
  name: string;
  origins: string[];
} {
  const issuer = new URL(config.issuer);
  return {
    id: config.webauthn.rpId || issuer.hostname,
    name: config.webauthn.rpName,
    origins:
      config.webauthn.origins.length > 0 ? config.webauthn.origins.map((o) => new URL(o).origin) : [issuer.origin],
  };
}

const MAX_LABEL = 100;
/** A label as stored: no control characters, trimmed, at most 100 characters (the column). */
function cleanLabel(value: string, fallback: string): string {
  const label = value
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .trim()
    .slice(0, MAX_LABEL);
  return label || fallback;
}

const DEFAULT_LABELS: Record<WebAuthnKind, string> = { passkey: 'Passkey', security_key: 'Security key' };

interface StoredKeyData {
  counter: number;
  transports: string[];
  kind: WebAuthnKind;
  backupEligible: boolean;
  backedUp: boolean;
}

function keyData(row: CredentialRow): StoredKeyData {
  const data = row.data;
  return {
    counter: typeof data.counter === 'number' ? data.counter : Number(data.counter ?? 0) || 0,
    transports: Array.isArray(data.transports) ? data.transports.filter((t): t is string => typeof t === 'string') : [],
    kind: data.kind === 'security_key' ? 'security_key' : 'passkey',
    backupEligible: data.backupEligible === true,
    backedUp: data.backedUp === true,
  };
}

function toKey(row: CredentialRow): WebAuthnKey {
  const data = keyData(row);
  return {
    id: row.id,
    label: row.label ?? DEFAULT_LABELS[data.kind],
    kind: data.kind,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    synced: data.backupEligible || data.backedUp,
  };
}

/** The WebAuthn user handle: the account id's bytes (no email or name, WebAuthn §14.6.1). */
const userHandle = (userId: string) => new TextEncoder().encode(userId);

export function createWebAuthnService(deps: {
  credentials: CredentialsRepository;
  kv: KeyValueStore;
  audit: AuditLog;
  config: Pick<Config, 'issuer' | 'webauthn'>;
  /**
   * Runs a change and its audit event in one transaction. Inside it only the repositories it
   * hands out are used (the embedded database serves one connection per open transaction).
   */
  transaction: Storage['transaction'];
}) {
  const { credentials, kv, audit } = deps;
  const rp = relyingParty(deps.config);
  const ttl = deps.config.webauthn.challengeTtlSeconds;
  const challengeKey = (binding: string, challenge: string) => `webauthn:${binding}:${challenge}`;

  /**
   * A fresh random challenge (32 bytes; WebAuthn §13.4.3 asks for at least 16), held
   * server-side under its binding for the configured TTL. Several may be live at once (the
   * autofill request and the button each have one); each is single-use.
   */
  async function issueChallenge(binding: string, stored: StoredChallenge): Promise<Uint8Array<ArrayBuffer>> {
    const challenge = new Uint8Array(randomBytes(32));
    // The options carry it base64url-encoded; clientDataJSON.challenge comes back the same way.
    // (A string given to the library would be taken as UTF-8 text and encoded again.)
    await kv.set(challengeKey(binding, Buffer.from(challenge).toString('base64url')), JSON.stringify(stored), ttl);
    return challenge;
  }

  /** Takes (get + delete, once across replicas) the challenge a response signed, if it was issued here for this purpose. */
  async function takeChallenge(
    binding: string,
    clientDataJSON: string,
    purpose: Purpose,
  ): Promise<{ challenge: string; stored: StoredChallenge } | undefined> {
    const challenge = challengeOf(clientDataJSON);
    if (!challenge) return undefined;
    const raw = await kv.take(challengeKey(binding, challenge));
    if (!raw) return undefined;
    const stored = parseJsonAs(raw, storedChallengeSchema);
    return stored?.purpose === purpose ? { challenge, stored } : undefined;
  }

  const timeout = ttl * 1000;

  /**
   * Checks an assertion against a stored credential. The library is given counter 0 so that
   * it never judges the counter before the signature is checked (it compares counters first);
   * we compare after a valid signature and record a regression (WebAuthn §6.1.1: a counter
   * that does not increase signals a possibly cloned authenticator).
   */
  async function checkAssertion(
    response: AuthenticationResponseJSON,
    challenge: string,
    row: CredentialRow,
    purpose: 'passkey' | 'second_factor',
    origin: RequestOrigin,
  ): Promise<Authenticated | Refused> {
    // A passkey alone is both factors, so it must verify the user; a key after a password need not.
    const requireUserVerification = purpose === 'passkey';
    const data = keyData(row);
    const verified = await (
      await webauthnLibrary()
    )
      .verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: rp.origins,
        expectedRPID: rp.id,
        credential: {
          id: row.externalId ?? '',
          publicKey: Buffer.from(row.secret, 'base64url'),
          counter: 0,
          transports: data.transports,
        },
        requireUserVerification,
      })
      .catch(() => undefined);
    if (!verified?.verified) return { ok: false, reason: 'invalid' };
    const info = verified.authenticationInfo;
    const regressed = async (): Promise<Refused> => {
      await audit.record(
        'mfa.webauthn.counter_regressed',
        {
          actorId: null,
          subjectId: row.userId,
          details: { credential: row.id, label: row.label, stored: data.counter, presented: info.newCounter },
        },
        origin,
      );
      return { ok: false, reason: 'counter_regressed' };
    };
    // 0 and 0 is an authenticator without a counter (many synced passkeys); anything else must grow.
    if ((data.counter > 0 || info.newCounter > 0) && info.newCounter <= data.counter) return regressed();
    const backedUp = info.credentialBackedUp;
    const backupEligible = info.credentialDeviceType === 'multiDevice';
    // Compare-and-set in the database, so two concurrent uses of one assertion cannot both pass;
    // the new counter (the key's use) commits with the sign-in event that records it.
    const advanced = await deps.transaction(async (tx) => {
      if (!(await tx.credentials.advanceWebAuthnCounter(row.id, info.newCounter, { backedUp, backupEligible })))
        return false;
      await audit.within(tx).record(
        purpose === 'passkey' ? 'signin.passkey.succeeded' : 'signin.mfa.succeeded',
        {
          actorId: row.userId,
          subjectId: row.userId,
          details: { method: purpose === 'passkey' ? 'passkey' : 'security_key', credential: row.id },
        },
        origin,
      );
      return true;
    });
    if (!advanced) return regressed();
    return {
      ok: true,
      userId: row.userId,
      credentialId: row.id,
      use: { userVerified: info.userVerified, backedUp: backedUp || backupEligible },
    };
  }

  /**
   * Records a refused sign-in ceremony for the user it concerned, when known (a success is
   * recorded with its counter in checkAssertion; a regressed counter has its own event).
   */
  async function recordSignIn<T extends Authenticated | Refused>(
    result: T,
    purpose: 'passkey' | 'second_factor',
    subjectId: string | undefined,
    origin: RequestOrigin,
  ): Promise<T> {
    if (!result.ok && subjectId && result.reason !== 'counter_regressed') {
      await audit.record(
        purpose === 'passkey' ? 'signin.passkey.failed' : 'signin.mfa.failed',
        {
          actorId: null,
          subjectId,
          details: { method: purpose === 'passkey' ? 'passkey' : 'security_key', reason: result.reason },
        },
        origin,
      );
    }
    return result;
  }

  return {
    relyingParty: rp,

    async list(userId: string): Promise<WebAuthnKey[]> {
      return (await credentials.listWebAuthn(userId)).map(toKey);
    },

    /**
     * Options for navigator.credentials.create(). A passkey must be discoverable
     * (residentKey required) and asks for user verification where the device can; a security
     * key need not store anything (residentKey discouraged). Keys already registered are
     * excluded so the same authenticator is not registered twice.
     */
    async registrationOptions(
      binding: string,
      user: { id: string; email: string; name: string | null },
      kind: WebAuthnKind,
    ): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const existing = await credentials.listWebAuthn(user.id);
      const challenge = await issueChallenge(binding, { purpose: 'register', userId: user.id, kind });
      return (await webauthnLibrary()).generateRegistrationOptions({
        rpName: rp.name,
        rpID: rp.id,
        userName: user.email,
        userDisplayName: user.name ?? user.email,
        userID: userHandle(user.id),
        challenge,
        timeout,
        attestationType: 'none',
        excludeCredentials: existing.map((row) => ({ id: row.externalId ?? '', transports: keyData(row).transports })),
        authenticatorSelection:
          kind === 'passkey'
            ? { residentKey: 'required', requireResidentKey: true, userVerification: 'preferred' }
            : { residentKey: 'discouraged', requireResidentKey: false, userVerification: 'discouraged' },
        extensions: { credProps: true },
      });
    },

    async verifyRegistration(
      binding: string,
      userId: string,
      input: unknown,
      label: string,
      origin: RequestOrigin,
    ): Promise<Registered | Refused> {
      const parsed = registrationResponseSchema.safeParse(input);
      if (!parsed.success) return { ok: false, reason: 'malformed' };
      const response: RegistrationResponseJSON = parsed.data;
      const taken = await takeChallenge(binding, response.response.clientDataJSON, 'register');
      if (!taken || taken.stored.userId !== userId) return { ok: false, reason: 'challenge' };
      const kind = taken.stored.kind ?? 'passkey';
      let info;
      try {
        const result = await (
          await webauthnLibrary()
        ).verifyRegistrationResponse({
          response,
          expectedChallenge: taken.challenge,
          expectedOrigin: rp.origins,
          expectedRPID: rp.id,
          // "preferred" for passkeys: a device without a PIN or biometrics may still register one.
          requireUserVerification: false,
        });
        if (!result.verified) return { ok: false, reason: 'invalid' };
        info = result.registrationInfo;
      } catch {
        return { ok: false, reason: 'invalid' };
      }
      if (await credentials.findWebAuthn(info.credential.id)) return { ok: false, reason: 'duplicate' };
      const row = await deps.transaction(async (tx) => {
        const added = await tx.credentials.addWebAuthn({
          userId,
          credentialId: info.credential.id,
          publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
          label: cleanLabel(label, DEFAULT_LABELS[kind]),
          data: {
            counter: info.credential.counter,
            transports: info.credential.transports ?? response.response.transports ?? [],
            kind,
            backupEligible: info.credentialDeviceType === 'multiDevice',
            backedUp: info.credentialBackedUp,
            userVerified: info.userVerified,
            aaguid: info.aaguid,
          },
        });
        await audit.within(tx).record(
          'mfa.webauthn.registered',
          {
            actorId: userId,
            subjectId: userId,
            details: { credential: added.id, kind, label: added.label, aaguid: info.aaguid },
          },
          origin,
        );
        return added;
      });
      return { ok: true, key: toKey(row) };
    },

    /**
     * Options for a username-less passkey sign-in: no allowCredentials, so the browser offers
     * the discoverable credentials it holds for this RP ID (and the autofill list), and user
     * verification is required because the passkey is the only factor.
     */
    async passkeyOptions(binding: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const challenge = await issueChallenge(binding, { purpose: 'passkey' });
      return (await webauthnLibrary()).generateAuthenticationOptions({
        rpID: rp.id,
        challenge,
        timeout,
        userVerification: 'required',
      });
    },

    /** The user is the credential's owner, found by the credential id (and its user handle must agree). */
    async verifyPasskey(
      binding: string,
      input: unknown,
      isActive: (userId: string) => Promise<boolean>,
      origin: RequestOrigin,
    ): Promise<Authenticated | Refused> {
      const parsed = authenticationResponseSchema.safeParse(input);
      if (!parsed.success) return { ok: false, reason: 'malformed' };
      const response: AuthenticationResponseJSON = parsed.data;
      const taken = await takeChallenge(binding, response.response.clientDataJSON, 'passkey');
      if (!taken) return { ok: false, reason: 'challenge' };
      const row = await credentials.findWebAuthn(response.id);
      if (!row || !(await isActive(row.userId))) return { ok: false, reason: 'unknown_credential' };
      const handle = response.response.userHandle;
      const result =
        handle && Buffer.from(handle, 'base64url').toString('utf8') !== row.userId
          ? ({ ok: false, reason: 'invalid' } as const)
          : await checkAssertion(response, taken.challenge, row, 'passkey', origin);
      return recordSignIn(result, 'passkey', row.userId, origin);
    },

    /** Options for the second step of a known user: their registered keys only. */
    async secondFactorOptions(
      binding: string,
      userId: string,
    ): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
      const keys = await credentials.listWebAuthn(userId);
      if (keys.length === 0) return undefined;
      const challenge = await issueChallenge(binding, { purpose: 'second_factor', userId });
      return (await webauthnLibrary()).generateAuthenticationOptions({
        rpID: rp.id,
        challenge,
        timeout,
        // A second factor after a password: presence is enough (the library's advice for 2FA).
        userVerification: 'discouraged',
        allowCredentials: keys.map((row) => ({ id: row.externalId ?? '', transports: keyData(row).transports })),
      });
    },

    async verifySecondFactor(
      binding: string,
      userId: string,
      input: unknown,
      origin: RequestOrigin,
    ): Promise<Authenticated | Refused> {
      const parsed = authenticationResponseSchema.safeParse(input);
      if (!parsed.success) return { ok: false, reason: 'malformed' };
      const response: AuthenticationResponseJSON = parsed.data;
      const taken = await takeChallenge(binding, response.response.clientDataJSON, 'second_factor');
      if (!taken || taken.stored.userId !== userId) return { ok: false, reason: 'challenge' };
      const row = await credentials.findWebAuthn(response.id);
      const result = !row
        ? ({ ok: false, reason: 'unknown_credential' } as const)
        : row.userId !== userId
          ? ({ ok: false, reason: 'wrong_user' } as const)
          : await checkAssertion(response, taken.challenge, row, 'second_factor', origin);
      return recordSignIn(result, 'second_factor', userId, origin);
    },

    async rename(userId: string, id: string, label: string, origin: RequestOrigin): Promise<boolean> {
      return deps.transaction(async (tx) => {
        const row = (await tx.credentials.listWebAuthn(userId)).find((r) => r.id === id);
        if (!row) return false;
        const next = cleanLabel(label, DEFAULT_LABELS[keyData(row).kind]);
        if (!(await tx.credentials.rename(userId, row.id, next))) return false;
        await audit
          .within(tx)
          .record(
            'mfa.webauthn.renamed',
            { actorId: userId, subjectId: userId, details: { credential: row.id, from: row.label, to: next } },
            origin,
          );
        return true;
      });
    },

    async remove(userId: string, id: string, origin: RequestOrigin): Promise<boolean> {
      return deps.transaction(async (tx) => {
        const row = (await tx.credentials.listWebAuthn(userId)).find((r) => r.id === id);
        if (!row || !(await tx.credentials.deleteSecondFactor(userId, row.id))) return false;
        await audit.within(tx).record(
          'mfa.webauthn.removed',
          {
            actorId: userId,
            subjectId: userId,
            details: { credential: row.id, kind: keyData(row).kind, label: row.label },
          },
          origin,
        );
        return true;
      });
    },
  };
}
