import { z } from 'zod';
import type { Storage, Repositories } from '../storage/storage.js';
import { IdentityTakenError } from '../storage/user-identities.repository.js';
import type { SecretBox } from '../security/secret-box.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import type { Connection } from './connection.js';
import type { ConnectionsService, OpenedConnection } from './connections.service.js';
import { FederationError, lastSignInMethod } from './errors.js';
import { keepsSignInMethod } from './sign-in-methods.js';
import type { RoundTrips, RoundTripIntent } from './round-trip.js';
import type { Upstreams } from './upstream.js';
import { sealUpstreamSignIn } from './upstream-sign-out.js';
import {
  checkAllowedDomain,
  checkPresetClaims,
  emailCounts,
  emailDomain,
  mappedRoles,
  readProfile,
  signInAmr,
  withFirstCallbackName,
  type UpstreamProfile,
} from './profile.js';

/** Where each connection's upstream sends the person back: one per connection, so a response meant for another upstream is caught by its path too (RFC 9700 §4.4.2). */
export function federationRedirectUri(issuer: string, connectionId: string): string {
  return `${issuer.replace(/\/+$/, '')}/federation/${encodeURIComponent(connectionId)}/callback`;
}

export interface BeginInput {
  connectionId: string;
  /**
   * The interaction the sign-in belongs to; the callback comes back to it. Absent only for a
   * link started on /account, outside any sign-in (intent `link`).
   */
  interactionUid?: string;
  /** The client signing in (the connection must be offered to it); null on /account. */
  clientId: string | null;
  /** When the interaction expires: the round trip expires with it. */
  expiresAt: Date;
  /** A sign-in (default), or linking an identity to a signed-in user. */
  intent?: RoundTripIntent;
  /** The address typed on the sign-in page, passed on as `login_hint`. */
  loginHint?: string;
}

export interface Begun {
  /** Where to send the browser. */
  url: URL;
  /** Put this in a cookie (HttpOnly, Secure, SameSite=Lax, path of the callback); give it back to complete(). */
  browserBinding: string;
}

export interface CompleteInput {
  /** The connection named by the callback's path. */
  connectionId: string;
  /** The callback's query, or its form_post body (Apple). */
  params: Record<string, string>;
  /** The cookie begin() asked for. */
  browserBinding: string | undefined;
  /** The interaction the caller expects, when it knows it (the round trip names it anyway). */
  interactionUid?: string;
  origin?: RequestOrigin;
}

interface OutcomeBase {
  userId: string;
  connectionId: string;
  /** The interaction to resume (a link from /account has none: see the `linked` outcome). */
  interactionUid: string;
  /** For the sign-in's `amr` (RFC 8176): `fed`, and `mfa` when the upstream's MFA is trusted. */
  amr: string[];
  /**
   * When the connection signs out upstream and the upstream gave an ID token: the connection
   * and the token, sealed (upstream-sign-out.ts), for the session this sign-in makes.
   */
  upstreamSignIn?: string;
}

export type FederationOutcome =
  /** An identity already linked: signed in as its user. */
  | (OutcomeBase & { kind: 'signed-in' })
  /** A new account, made with the identity linked. */
  | (OutcomeBase & { kind: 'created' })
  /** An identity linked to the signed-in user (intent `link`); interactionUid null when started on /account. */
  | (Omit<OutcomeBase, 'interactionUid'> & { kind: 'linked'; interactionUid: string | null })
  /**
   * The upstream's (verified, trusted) address is an existing account's: the person must prove
   * they own that account (password, passkey, emailed link) before link(userId, pending).
   * Never a silent merge by address (account pre-hijacking, Sudhodanan & Paverd 2022).
   */
  | (OutcomeBase & { kind: 'link-required'; email: string; pending: string });

const pendingSchema = z.strictObject({
  connectionId: z.string(),
  subject: z.string(),
  email: z.string().nullable(),
  userId: z.string(),
  expiresAt: z.number(),
});
const PENDING_CONTEXT = 'federation-pending-link';

export interface LinkedIdentity {
  connectionId: string;
  connectionName: string;
  email: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/**
 * Sign-in through upstream identity providers (issue 17), without HTTP: the web layer calls
 * begin() and sends the browser to the URL, hands the callback to complete(), and acts on
 * the outcome (resume the interaction signed in, or ask for proof then link()).
 */
export function createFederationService(deps: {
  storage: Storage;
  box: SecretBox;
  audit: AuditLog;
  connections: ConnectionsService;
  roundTrips: RoundTrips;
  upstreams: Upstreams;
  issuer: string;
  now?: () => number;
}) {
  const { storage, box, audit, connections, roundTrips, upstreams } = deps;
  const now = deps.now ?? Date.now;
  const redirectUri = (connectionId: string) => federationRedirectUri(deps.issuer, connectionId);

  const offeredTo = (connection: Connection, clientId: string | null) =>
    connection.enabled &&
    (clientId === null || connection.allowedClients === null || connection.allowedClients.includes(clientId));

  async function usable(connectionId: string, clientId: string | null): Promise<OpenedConnection> {
    const opened = await connections.open(connectionId);
    if (!opened || !offeredTo(opened.connection, clientId)) {
      throw new FederationError('connection_unavailable', 'this connection is not available here');
    }
    return opened;
  }

  async function recordFailure(
    error: FederationError,
    connectionId: string,
    trip: { clientId: string | null; userId?: string } | null,
    origin: RequestOrigin | undefined,
  ) {
    await audit
      .record(
        'federation.failed',
        {
          actorId: null,
          subjectId: trip?.userId ?? null,
          clientId: trip?.clientId ?? null,
          details: {
            connection: connectionId,
            reason: error.reason,
            ...(error.upstreamError ? { upstreamError: error.upstreamError } : {}),
          },
        },
        origin,
      )
      .catch(() => undefined);
  }

  /** A sign-in through an upstream, as the password and passkey sign-ins are recorded (the dashboard counts them). */
  async function recordSignIn(userId: string, connectionId: string, clientId: string | null, origin?: RequestOrigin) {
    await audit.record(
      'signin.upstream.succeeded',
      { actorId: userId, subjectId: userId, clientId, details: { connection: connectionId } },
      origin,
    );
  }

  async function linkIdentity(
    tx: Repositories,
    input: { connectionId: string; subject: string; email: string | null; userId: string; origin?: RequestOrigin },
  ) {
    try {
      await tx.identities.link({
        connectionId: input.connectionId,
        subject: input.subject,
        userId: input.userId,
        email: input.email,
      });
    } catch (error) {
      if (error instanceof IdentityTakenError)
        throw new FederationError('identity_in_use', 'this upstream identity is linked to another account');
      throw error;
    }
    await audit.within(tx).record(
      'federation.identity_linked',
      {
        actorId: input.userId,
        subjectId: input.userId,
        details: { connection: input.connectionId },
      },
      input.origin,
    );
  }

  async function createAccount(
    opened: OpenedConnection,
    profile: UpstreamProfile,
    base: Omit<OutcomeBase, 'userId'>,
    origin: RequestOrigin | undefined,
  ): Promise<FederationOutcome> {
    const { connection } = opened;
    if (!connection.createAccounts)
      throw new FederationError(
        'no_account',
        'no account has this identity, and this connection does not create accounts',
      );
    if (!profile.email) throw new FederationError('no_account', 'the upstream gave no address to make an account with');
    const email = profile.email;
    const emailVerified = emailCounts(connection, profile);
    const roles = mappedRoles(connection.roleRules, connection, profile);
    const userId = await storage.transaction(async (tx) => {
      const user = await tx.users.create({
        email,
        name: profile.name,
        emailVerified,
        passwordHash: null,
        totpSecretEncrypted: null,
      });
      for (const role of roles) {
        // A role deleted since the rule was written is skipped, not a failed sign-in.
        if (await tx.roles.findByName(role)) await tx.roles.assign(user.id, role);
      }
      await audit.within(tx).record(
        'federation.account_created',
        {
          actorId: user.id,
          subjectId: user.id,
          details: { connection: connection.id, emailVerified, roles },
        },
        origin,
      );
      await linkIdentity(tx, { connectionId: connection.id, subject: profile.subject, email, userId: user.id, origin });
      return user.id;
    });
    return { ...base, kind: 'created', userId };
  }

  return {
    redirectUri,

    /** The enabled connections the client's sign-in page offers, in order. */
    async offered(clientId: string | null): Promise<Connection[]> {
      return (await connections.list()).filter((c) => offeredTo(c, clientId));
    },

    /** An RP's `upstream=<id>` hint: the connection when it is offered to that client, else null (the page shows the choice). */
    async resolveHint(hint: string, clientId: string | null): Promise<Connection | null> {
      const found = await connections.open(hint).catch(() => null);
      return found && offeredTo(found.connection, clientId) ? found.connection : null;
    },

    /** Home-realm discovery: the connection that claims the address's domain, offered to the client; null when none does. */
    async connectionForEmail(email: string, clientId: string | null): Promise<Connection | null> {
      const at = email.lastIndexOf('@');
      if (at < 1) return null;
      const domain = emailDomain(email);
      return (
        (await connections.list()).find((c) => offeredTo(c, clientId) && c.homeRealmDomains.includes(domain)) ?? null
      );
    },

    /** Starts a round trip: the upstream's authorization URL, and the value the browser must bring back. */
    async begin(input: BeginInput): Promise<Begun> {
      const intent = input.intent ?? { kind: 'sign-in' };
      // A sign-in resumes its interaction; only a link (from /account) may have none.
      if (input.interactionUid === undefined && intent.kind !== 'link')
        throw new TypeError('begin: a sign-in needs the interaction it belongs to');
      const opened = await usable(input.connectionId, input.clientId);
      const { state, nonce, codeChallenge, browserBinding } = await roundTrips.start({
        connectionId: opened.connection.id,
        interactionUid: input.interactionUid ?? null,
        clientId: input.clientId,
        intent,
        expiresAt: input.expiresAt,
      });
      const url = await upstreams.authorizationUrl(opened, {
        redirectUri: redirectUri(opened.connection.id),
        state,
        nonce,
        codeChallenge,
        loginHint: input.loginHint,
      });
      return { url, browserBinding };
    },

    /** Finishes a round trip from its callback. Throws FederationError (each failure is audited). */
    async complete(input: CompleteInput): Promise<FederationOutcome> {
      let trip: { clientId: string | null; userId?: string } | null = null;
      try {
        const roundTrip = await roundTrips.finish(input.params.state, input.browserBinding, input.interactionUid);
        trip = {
          clientId: roundTrip.clientId,
          userId: roundTrip.intent.kind === 'link' ? roundTrip.intent.userId : undefined,
        };
        // The path names the connection the response was sent to; the state, the one the request went to.
        if (roundTrip.connectionId !== input.connectionId)
          throw new FederationError(
            'issuer_mismatch',
            'the response came back for another connection than the request went to',
          );
        const opened = await usable(roundTrip.connectionId, roundTrip.clientId);
        const { claims, idToken } = await upstreams.exchange(opened, {
          redirectUri: redirectUri(opened.connection.id),
          params: input.params,
          state: input.params.state ?? '',
          nonce: roundTrip.nonce,
          verifier: roundTrip.verifier,
        });
        checkPresetClaims(opened.settings, claims);
        const { connection } = opened;
        const profile = withFirstCallbackName(opened.settings, readProfile(opened.settings, claims), input.params.user);
        checkAllowedDomain(connection, profile);
        const identity = await storage.identities.find(connection.id, profile.subject);
        const amr = signInAmr(connection, profile);

        if (roundTrip.intent.kind === 'link') {
          const { userId } = roundTrip.intent;
          if (identity && identity.userId !== userId)
            throw new FederationError('identity_in_use', 'this upstream identity is linked to another account');
          if (!identity)
            await storage.transaction((tx) =>
              linkIdentity(tx, {
                connectionId: connection.id,
                subject: profile.subject,
                email: profile.email,
                userId,
                origin: input.origin,
              }),
            );
          return {
            kind: 'linked',
            userId,
            connectionId: connection.id,
            interactionUid: roundTrip.interactionUid,
            amr,
          };
        }
        if (roundTrip.interactionUid === null)
          throw new FederationError('state_mismatch', 'a sign-in came back without the sign-in it belongs to');
        const upstreamSignIn =
          connection.upstreamSignOut && idToken
            ? sealUpstreamSignIn(box, { connectionId: connection.id, idToken })
            : undefined;
        const base = {
          connectionId: connection.id,
          interactionUid: roundTrip.interactionUid,
          amr,
          ...(upstreamSignIn ? { upstreamSignIn } : {}),
        };
        if (identity) {
          const user = await storage.users.findById(identity.userId);
          if (!user || user.disabledAt)
            throw new FederationError('account_disabled', 'the account linked to this identity is disabled');
          await storage.identities.markUsed(identity.id);
          await recordSignIn(user.id, connection.id, roundTrip.clientId, input.origin);
          return { ...base, kind: 'signed-in', userId: user.id };
        }
        const existing = profile.email ? await storage.users.findByEmail(profile.email) : null;
        if (existing) {
          // Never merged by address: the person proves they own the account first, and an
          // address Gatehouse does not believe (unverified, or untrusted upstream) never links.
          if (!emailCounts(connection, profile))
            throw new FederationError(
              'email_not_verified',
              "the upstream's address is an account's, but the upstream did not verify it",
            );
          const pending = box.seal(
            JSON.stringify({
              connectionId: connection.id,
              subject: profile.subject,
              email: profile.email,
              userId: existing.id,
              expiresAt: now() + PENDING_LINK_TTL_MS,
            } satisfies z.infer<typeof pendingSchema>),
            PENDING_CONTEXT,
          );
          return { ...base, kind: 'link-required', userId: existing.id, email: existing.email, pending };
        }
        const created = await createAccount(opened, profile, base, input.origin);
        await recordSignIn(created.userId, connection.id, roundTrip.clientId, input.origin);
        return created;
      } catch (error) {
        if (error instanceof FederationError) await recordFailure(error, input.connectionId, trip, input.origin);
        throw error;
      }
    },

    /**
     * Links the identity of a link-required outcome, once the person proved they own `userId`
     * (the caller's job). A pending link for another user, or an expired one, links nothing.
     */
    async link(userId: string, pending: string, origin?: RequestOrigin): Promise<void> {
      let parsed: z.infer<typeof pendingSchema>;
      try {
        parsed = pendingSchema.parse(JSON.parse(box.open(pending, PENDING_CONTEXT)));
      } catch {
        throw new FederationError('state_mismatch', 'the pending link is not one Gatehouse made');
      }
      if (parsed.userId !== userId || parsed.expiresAt <= now())
        throw new FederationError('state_mismatch', 'the pending link is for another account or has expired');
      await storage.transaction((tx) => linkIdentity(tx, { ...parsed, origin }));
    },

    /** Removes the user's identity at a connection; refused when it is the last way to sign in. False when there was none. */
    async unlink(userId: string, connectionId: string, origin?: RequestOrigin): Promise<boolean> {
      return storage.transaction(async (tx) => {
        const identities = await tx.identities.listForUser(userId);
        if (!identities.some((i) => i.connectionId === connectionId)) return false;
        if (!(await keepsSignInMethod(tx, userId, connectionId))) throw lastSignInMethod();
        await tx.identities.unlink(userId, connectionId);
        await audit
          .within(tx)
          .record(
            'federation.identity_unlinked',
            { actorId: userId, subjectId: userId, details: { connection: connectionId } },
            origin,
          );
        return true;
      });
    },

    /** The user's linked identities, with their connections' names, oldest first. */
    async listIdentities(userId: string): Promise<LinkedIdentity[]> {
      const [identities, all] = await Promise.all([storage.identities.listForUser(userId), connections.list()]);
      const names = new Map(all.map((c) => [c.id, c.displayName]));
      return identities.map((i) => ({
        connectionId: i.connectionId,
        connectionName: names.get(i.connectionId) ?? i.connectionId,
        email: i.email,
        createdAt: i.createdAt,
        lastUsedAt: i.lastUsedAt,
      }));
    },
  };
}

export type FederationService = ReturnType<typeof createFederationService>;

/** How long a link-required outcome may wait for the person's proof. */
const PENDING_LINK_TTL_MS = 15 * 60 * 1000;
