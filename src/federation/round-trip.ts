import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as oauth from 'openid-client';
import { z } from 'zod';
import type { KeyValueStore } from '../storage/key-value-store.js';
import type { SecretBox } from '../security/secret-box.js';
import { FederationError } from './errors.js';

/**
 * One upstream round trip (docs/decisions.md, "Upstream round trips live in the key-value
 * store"): its own state, nonce and PKCE verifier, bound to the interaction and to the
 * browser, used once, gone when the interaction would have expired. Kept in the key-value
 * store (Redis, or the embedded store) under a digest of the state, sealed, so neither a
 * Redis dump nor a guessed key gives the verifier or nonce away. `take` reads and deletes in
 * one step: of two callbacks carrying the same state, one gets it.
 */

/** What the round trip is for: a sign-in, or linking another identity to a signed-in user (/account). */
export type RoundTripIntent = { kind: 'sign-in' } | { kind: 'link'; userId: string };

const roundTripSchema = z.strictObject({
  connectionId: z.string(),
  /** null: a link started on /account, outside any sign-in. */
  interactionUid: z.string().nullable(),
  clientId: z.string().nullable(),
  browserDigest: z.string(),
  nonce: z.string(),
  verifier: z.string(),
  intent: z.union([
    z.strictObject({ kind: z.literal('sign-in') }),
    z.strictObject({ kind: z.literal('link'), userId: z.string() }),
  ]),
});
export type RoundTrip = z.infer<typeof roundTripSchema>;

const SEAL_CONTEXT = 'federation-round-trip';
const key = (state: string) => `federation:state:${digest(state)}`;
const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export interface StartedRoundTrip {
  state: string;
  nonce: string;
  codeChallenge: string;
  /** For the browser only (a cookie): the store keeps its digest. */
  browserBinding: string;
}

export function createRoundTrips(kv: KeyValueStore, box: SecretBox, now: () => number = Date.now) {
  return {
    async start(input: {
      connectionId: string;
      interactionUid: string | null;
      clientId: string | null;
      intent: RoundTripIntent;
      expiresAt: Date;
    }): Promise<StartedRoundTrip> {
      const state = oauth.randomState();
      const nonce = oauth.randomNonce();
      const verifier = oauth.randomPKCECodeVerifier();
      const browserBinding = randomBytes(32).toString('base64url');
      const trip: RoundTrip = {
        connectionId: input.connectionId,
        interactionUid: input.interactionUid,
        clientId: input.clientId,
        browserDigest: digest(browserBinding),
        nonce,
        verifier,
        intent: input.intent,
      };
      const ttlSeconds = Math.max(1, Math.ceil((input.expiresAt.getTime() - now()) / 1000));
      await kv.set(key(state), box.seal(JSON.stringify(trip), SEAL_CONTEXT), ttlSeconds);
      return { state, nonce, codeChallenge: await oauth.calculatePKCECodeChallenge(verifier), browserBinding };
    },

    /**
     * The round trip a callback's state names, used up: it must exist (unknown, replayed and
     * expired states do not), come back to the browser that started it, and to its interaction
     * when the caller knows which (the callback URL does not carry it: the round trip names it).
     */
    async finish(
      state: string | undefined,
      browserBinding: string | undefined,
      interactionUid?: string,
    ): Promise<RoundTrip> {
      if (!state || state.length > 200)
        throw new FederationError('state_mismatch', 'the callback carries no usable state');
      const sealed = await kv.take(key(state));
      if (!sealed) throw new FederationError('state_mismatch', 'the state is unknown, expired or used already');
      const trip = roundTripSchema.parse(JSON.parse(box.open(sealed, SEAL_CONTEXT)));
      if (!browserBinding || !sameDigest(digest(browserBinding), trip.browserDigest)) {
        throw new FederationError(
          'state_mismatch',
          'the callback arrived in another browser than the one that started it',
        );
      }
      if (interactionUid !== undefined && trip.interactionUid !== interactionUid)
        throw new FederationError('state_mismatch', 'the callback belongs to another sign-in');
      return trip;
    },
  };
}

export type RoundTrips = ReturnType<typeof createRoundTrips>;
