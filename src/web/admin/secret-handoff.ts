import { randomBytes } from 'node:crypto';
import type { KeyValueStore } from '../../storage/key-value-store.js';
import type { SecretBox } from '../../security/secret-box.js';
import { z } from 'zod';
import { parseJsonAs } from '../../typed-json.js';

/** Long enough to copy a secret after the redirect; short enough that a forgotten tab holds nothing. */
const TTL_SECONDS = 300;
const CONTEXT = 'kv:console-client-secret';
const TICKET = /^[A-Za-z0-9_-]{22}$/;

const handedSecret = z.object({ clientId: z.string(), clientSecret: z.string() });
export type HandedSecret = z.infer<typeof handedSecret>;

/**
 * A new client secret on its way from the POST that made it to the one GET that shows it
 * (post/redirect/get: reloading the page must not create a second client). Kept in the shared
 * store (Redis across replicas), sealed, for five minutes, under a random ticket bound to the
 * admin's console session; the first GET takes it, so it is shown once and then gone.
 */
export function createSecretHandoff(kv: KeyValueStore, box: SecretBox) {
  const key = (sessionUid: string, ticket: string) => `console-secret:${sessionUid}:${ticket}`;
  return {
    /** Stores it; returns the ticket for the redirect URL (the secret itself is never in a URL or a log). */
    async put(sessionUid: string, handed: HandedSecret): Promise<string> {
      const ticket = randomBytes(16).toString('base64url');
      await kv.set(key(sessionUid, ticket), box.seal(JSON.stringify(handed), CONTEXT), TTL_SECONDS);
      return ticket;
    },
    /** The secret for this session and client, once; undefined when taken, expired or never there. */
    async take(sessionUid: string, ticket: string, clientId: string): Promise<string | undefined> {
      if (!TICKET.test(ticket)) return undefined;
      const sealed = await kv.take(key(sessionUid, ticket));
      if (!sealed) return undefined;
      const handed = parseJsonAs(box.open(sealed, CONTEXT), handedSecret);
      return handed?.clientId === clientId ? handed.clientSecret : undefined;
    },
  };
}
