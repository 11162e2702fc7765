import type Provider from 'oidc-provider';
import type { OidcStoreRepository } from '../storage/oidc-store.repository.js';
import type { Repositories } from '../storage/storage.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import { InvalidInputError } from '../errors/domain-errors.js';
import type { TokenDigest } from '../security/token-digest.js';
import { REFERENCE_FIELD, referenceOf } from '../storage/initial-access-token-reference.js';

/**
 * The name of the registration policy every initial access token carries. oidc-provider
 * runs an IAT's policies on registration and hands them on to the registration access
 * token, so RFC 7592 updates are held to the same rules (lib/actions/registration.js).
 * Declared here, not beside the policy, so that the CLI can load this file without
 * loading oidc-provider (whose import prints a runtime warning).
 */
export const REGISTRATION_POLICY = 'gatehouse';

const MODEL = 'InitialAccessToken';
/** Our fields in the stored payload; oidc-provider ignores keys it does not know. */
const NOTE_FIELD = 'gatehouse_note';
const MAX_NOTE_LENGTH = 200;
const MAX_TTL_SECONDS = 366 * 24 * 3600;

interface CreateInitialAccessToken {
  /** Lifetime; default `registration.initialAccessTokenTtlSeconds`. */
  ttlSeconds?: number;
  /** What the token is for ("partner X onboarding"); shown in list(). */
  note?: string;
  /** The admin creating it, for the audit log. */
  actorId?: string | null;
  origin?: RequestOrigin;
}

export interface CreatedInitialAccessToken {
  /** The bearer value for the registration request; shown once, never listed. */
  token: string;
  /** The token's public reference (see referenceOf), for list() and revoke(). */
  id: string;
  expiresAt: Date;
}

export interface InitialAccessTokenSummary {
  id: string;
  note: string | null;
  createdAt: Date;
  expiresAt: Date | null;
}

export interface InitialAccessTokens {
  create(input?: CreateInitialAccessToken): Promise<CreatedInitialAccessToken>;
  list(): Promise<InitialAccessTokenSummary[]>;
  /** false when no live token has that reference. */
  revoke(id: string, actor?: { actorId?: string | null; origin?: RequestOrigin }): Promise<boolean>;
}

export interface InitialAccessTokenDeps {
  /** The running provider (ProviderHost.current; the CLI's model provider): its model writes through our adapter. */
  provider: () => Provider | Promise<Provider>;
  oidc: OidcStoreRepository;
  /** The adapter stores the token under its digest; the reference is written beside it. */
  digest: TokenDigest;
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  audit: AuditLog;
  defaultTtlSeconds: number;
}

const referenceIn = (payload: Record<string, unknown>): string | null =>
  typeof payload[REFERENCE_FIELD] === 'string' ? payload[REFERENCE_FIELD] : null;

function checkInput(input: CreateInitialAccessToken, defaultTtl: number): { ttl: number; note: string | null } {
  const ttl = input.ttlSeconds ?? defaultTtl;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) {
    throw new InvalidInputError('ttl_seconds', `must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}`);
  }
  const note = input.note?.trim() || null;
  if (note && note.length > MAX_NOTE_LENGTH)
    throw new InvalidInputError('note', `must be at most ${MAX_NOTE_LENGTH} characters`);
  return { ttl, note };
}

/**
 * Initial access tokens (RFC 7591 §3): what an admin hands a developer so that one
 * registration (or a few, until it expires or is revoked) may happen. Each carries the
 * Gatehouse registration policy.
 */
export function createInitialAccessTokens(deps: InitialAccessTokenDeps): InitialAccessTokens {
  return {
    async create(input = {}) {
      const { ttl, note } = checkInput(input, deps.defaultTtlSeconds);
      const { InitialAccessToken } = await deps.provider();
      const token = await new InitialAccessToken({ expiresIn: ttl, policies: [REGISTRATION_POLICY] }).save();
      const id = referenceOf(token);
      // The provider wrote the token through the adapter; its reference, note and the audit
      // event commit together, or the token goes: one that no list shows must not work.
      const storedId = deps.digest.storedId(MODEL, token);
      await deps
        .transaction(async (tx) => {
          await tx.oidc.annotate(MODEL, storedId, { [REFERENCE_FIELD]: id, ...(note ? { [NOTE_FIELD]: note } : {}) });
          await deps.audit
            .within(tx)
            .record(
              'initial_access_token.created',
              { actorId: input.actorId ?? null, details: { id, note, ttlSeconds: ttl } },
              input.origin,
            );
        })
        .catch(async (error: unknown) => {
          await deps.oidc.destroy(MODEL, storedId);
          throw error;
        });
      return { token, id, expiresAt: new Date(Date.now() + ttl * 1000) };
    },

    async list() {
      const rows = await deps.oidc.listLive(MODEL);
      return rows.flatMap((row) => {
        const reference = referenceIn(row.payload);
        const note = typeof row.payload[NOTE_FIELD] === 'string' ? row.payload[NOTE_FIELD] : null;
        return reference ? [{ id: reference, note, createdAt: row.createdAt, expiresAt: row.expiresAt }] : [];
      });
    },

    async revoke(id, actor = {}) {
      // Live tokens are few (an admin makes each one), so they are matched here rather than
      // by a second indexed key in the table.
      const row = (await deps.oidc.listLive(MODEL)).find((r) => referenceIn(r.payload) === id);
      if (!row) return false;
      await deps.transaction(async (tx) => {
        await tx.oidc.destroy(MODEL, row.id);
        await deps.audit
          .within(tx)
          .record('initial_access_token.revoked', { actorId: actor.actorId ?? null, details: { id } }, actor.origin);
      });
      return true;
    },
  };
}
