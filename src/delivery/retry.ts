import { DeliveryError } from './message.js';

export interface RetryPolicy {
  attempts: number;
  initialDelayMs: number;
  timeoutMs: number;
}

/** Waits between attempts; tests give one that records the delays instead of waiting them. */
export type Sleep = (ms: number) => Promise<void>;
const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** A gateway's answer worth another try: it was busy or broken, not our request (RFC 9110 §15.6, RFC 6585 §4). */
const retryable = (status: number) => status === 429 || status === 408 || status >= 500;

/**
 * One HTTP request with a time limit per attempt, tried again after a network error, a
 * timeout, a 408, 429 or 5xx, waiting `initialDelayMs` and doubling each time. A 2xx resolves;
 * any other answer (a 4xx: the request itself is wrong) fails at once. Errors name the status
 * or the kind of failure, never the request (it holds the code) or the gateway's body.
 */
export async function postWithRetries(
  url: string,
  request: () => RequestInit,
  policy: RetryPolicy,
  sleep: Sleep = realSleep,
): Promise<Response> {
  let last: DeliveryError = new DeliveryError('not attempted');
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    if (attempt > 1) await sleep(policy.initialDelayMs * 2 ** (attempt - 2));
    let response: Response;
    try {
      response = await fetch(url, {
        ...request(),
        method: 'POST',
        redirect: 'error',
        signal: AbortSignal.timeout(policy.timeoutMs),
      });
      // The body is read and dropped: a connection with an unread body is not reused.
      await response.arrayBuffer();
    } catch (error) {
      // By name, not instanceof: the abort reason is a DOMException, which need not be an Error of this realm.
      const name = typeof error === 'object' && error !== null && 'name' in error ? error.name : undefined;
      const timedOut = name === 'TimeoutError' || name === 'AbortError';
      last = new DeliveryError(timedOut ? `no answer within ${policy.timeoutMs} ms` : 'gateway unreachable');
      continue;
    }
    if (response.ok) return response;
    last = new DeliveryError(`gateway answered ${response.status}`, response.status);
    if (!retryable(response.status)) throw last;
  }
  throw new DeliveryError(`${last.message} after ${policy.attempts} attempt(s)`, last.status);
}
