import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Storage } from '../storage/storage.js';
import type { SecretBox } from '../security/secret-box.js';
import { parseJsonAs } from '../typed-json.js';
import type { ConnectionsService } from './connections.service.js';
import type { Upstreams } from './upstream.js';

/**
 * Upstream sign-out (issue 17; docs/federation.md, "Upstream sign-out"): a Gatehouse session
 * signed in through a connection with `upstreamSignOut` remembers that connection and the
 * upstream's ID token; when the session is signed out, the browser is sent on to the
 * upstream's end_session_endpoint with the token as `id_token_hint`, and comes back to
 * `<issuer>/federation/<id>/signed-out`, which continues where the sign-out was going.
 *
 * The record is a row of `oidc_payloads` under its own model, keyed by the session's uid
 * (the provider keeps a session's uid across sign-ins, its row id changes at each), with
 * the session's account (so "sign out everywhere" deletes it with the sessions) and its end
 * (so the purge removes it); the ID token in it is sealed (docs/decisions.md).
 */
export const UPSTREAM_SIGN_IN_MODEL = 'UpstreamSignIn';

const SEAL_CONTEXT = 'federation-upstream-sign-in';
const signInSchema = z.strictObject({ connectionId: z.string(), idToken: z.string() });
export type UpstreamSignIn = z.infer<typeof signInSchema>;

const returnSchema = z.strictObject({ connectionId: z.string(), continueTo: z.string() });
/** How long the upstream may take to send the browser back (it may ask the person first). */
const RETURN_TTL_SECONDS = 15 * 60;
const returnKey = (state: string) => `federation:signed-out:${createHash('sha256').update(state).digest('base64url')}`;

/** Where an upstream sends the browser back after signing out: registered there like the callback. */
export function federationSignedOutUri(issuer: string, connectionId: string): string {
  return `${issuer.replace(/\/+$/, '')}/federation/${encodeURIComponent(connectionId)}/signed-out`;
}

/** The sign-in as it travels from the callback to the session (a hand-over, an interaction result): sealed. */
export function sealUpstreamSignIn(box: SecretBox, signIn: UpstreamSignIn): string {
  return box.seal(JSON.stringify(signIn), SEAL_CONTEXT);
}

function openUpstreamSignIn(box: SecretBox, sealed: string): UpstreamSignIn | undefined {
  try {
    return parseJsonAs(box.open(sealed, SEAL_CONTEXT), signInSchema);
  } catch {
    return undefined;
  }
}

/** Where to send the browser to sign out upstream, and the connection's name for the page that does. */
export interface UpstreamSignOutTarget {
  url: URL;
  connectionName: string;
}

export function createUpstreamSignOut(deps: {
  storage: Pick<Storage, 'oidc' | 'kv'>;
  box: SecretBox;
  connections: Pick<ConnectionsService, 'open'>;
  upstreams: Pick<Upstreams, 'endSessionUrl'>;
  issuer: string;
}) {
  const { storage, box } = deps;
  return {
    /**
     * Remembers a sealed sign-in (sealUpstreamSignIn) with the Gatehouse session it signed in,
     * until the session's end. A value that does not open is ignored.
     */
    async remember(input: { sessionUid: string; accountId: string; sealed: string; expiresInSeconds: number }) {
      if (!openUpstreamSignIn(box, input.sealed)) return;
      await storage.oidc.upsert({
        model: UPSTREAM_SIGN_IN_MODEL,
        id: input.sessionUid,
        payload: { accountId: input.accountId, signIn: input.sealed },
        expiresInSeconds: input.expiresInSeconds,
      });
    },

    /** The session ended without going upstream (signed out to switch accounts): its record goes. */
    forget: (sessionUid: string) => storage.oidc.destroy(UPSTREAM_SIGN_IN_MODEL, sessionUid),

    /**
     * The session `sessionUid` is signed out: its record is forgotten, and when it was signed
     * in through a connection that (still) signs out upstream and whose upstream names an
     * end_session_endpoint, the URL to send the browser to; its return continues to
     * `continueTo`. Null otherwise, and when the upstream cannot be asked (the sign-out here
     * is done either way).
     */
    async signOutUrl(sessionUid: string, continueTo: string): Promise<UpstreamSignOutTarget | null> {
      const row = await storage.oidc.find(UPSTREAM_SIGN_IN_MODEL, sessionUid);
      if (!row) return null;
      await storage.oidc.destroy(UPSTREAM_SIGN_IN_MODEL, sessionUid);
      const signIn = typeof row.signIn === 'string' ? openUpstreamSignIn(box, row.signIn) : undefined;
      if (!signIn) return null;
      const opened = await deps.connections.open(signIn.connectionId).catch(() => null);
      if (!opened?.connection.enabled || !opened.connection.upstreamSignOut) return null;
      const state = randomBytes(24).toString('base64url');
      const url = await deps.upstreams
        .endSessionUrl(opened, {
          idToken: signIn.idToken,
          postLogoutRedirectUri: federationSignedOutUri(deps.issuer, signIn.connectionId),
          state,
        })
        .catch(() => null);
      if (!url) return null;
      await storage.kv.set(
        returnKey(state),
        JSON.stringify({ connectionId: signIn.connectionId, continueTo } satisfies z.infer<typeof returnSchema>),
        RETURN_TTL_SECONDS,
      );
      return { url, connectionName: opened.connection.displayName };
    },

    /**
     * The upstream sent the browser back: where the sign-out was going, once per sign-out;
     * null for an unknown, used or expired state, or one of another connection.
     */
    async returned(connectionId: string, state: unknown): Promise<string | null> {
      if (typeof state !== 'string' || state.length === 0 || state.length > 128) return null;
      const raw = await storage.kv.take(returnKey(state));
      const stored = raw ? parseJsonAs(raw, returnSchema) : undefined;
      return stored && stored.connectionId === connectionId ? stored.continueTo : null;
    },
  };
}

export type UpstreamSignOut = ReturnType<typeof createUpstreamSignOut>;
