import { setTimeout as sleep } from 'node:timers/promises';
import type { TestClient } from '../../helpers/factories.js';
import { oidc } from '../../helpers/rp.js';
import { tokenRequest, type RawTokenResponse } from '../../helpers/tokens.js';

/**
 * Refresh-token chains as an RP runs them: each chain holds the last refresh token it got
 * back in a 200 and rotates it again; a failed attempt keeps the token it had. Every token a
 * chain received is kept, so a test can check that none of them is accepted twice.
 */
export interface RefreshChain {
  rp: oidc.Configuration;
  client: Pick<TestClient, 'clientId' | 'clientSecret'>;
  /** The last refresh token this chain received in a 200. */
  last: string;
  /** Every refresh token it received, oldest first (the last one is `last`). */
  received: string[];
}

export interface Attempt {
  chain: number;
  /** The refresh token sent. */
  presented: string;
  status: number;
  error: unknown;
  retryAfter: string | null;
  contentType: string | null;
  ms: number;
  at: number;
}

export function refreshOnce(chain: RefreshChain): Promise<RawTokenResponse> {
  return tokenRequest(chain.rp, chain.client, { grant_type: 'refresh_token', refresh_token: chain.last });
}

/**
 * Rotates every chain in a loop until `stop` resolves. A network failure (the server gone)
 * counts as status 0. Between failures a chain waits a little, as a client honouring
 * Retry-After would, only shorter, to keep the load up.
 */
export async function rotateUntil(chains: RefreshChain[], stop: Promise<unknown>): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  await Promise.all(
    chains.map(async (chain, index) => {
      while (!stopped) {
        const started = Date.now();
        const presented = chain.last;
        const answer = await refreshOnce(chain).catch(() => null);
        attempts.push({
          chain: index,
          presented,
          status: answer?.status ?? 0,
          error: answer?.body.error,
          retryAfter: answer?.headers.get('retry-after') ?? null,
          contentType: answer?.headers.get('content-type') ?? null,
          ms: Date.now() - started,
          at: started,
        });
        const next = answer?.status === 200 ? answer.body.refresh_token : undefined;
        if (typeof next === 'string' && presented === chain.last) {
          chain.last = next;
          chain.received.push(next);
        } else {
          await sleep(100);
        }
      }
    }),
  );
  return attempts;
}
