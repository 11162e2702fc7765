import type { Context, Next } from 'koa';
import { counterKey, type RateLimits } from '../security/rate-limits.js';
import type { KeyValueStore } from '../storage/key-value-store.js';
import { readFormBody } from '../http/request-body.js';
import { DEVICE_CODE_GRANT } from '../clients/client-flows.js';

const single = (value: string | string[] | undefined): string | undefined =>
  typeof value === 'string' ? value : undefined;

/**
 * RFC 8628 §5.1: a user code is short, so guessing one must be slow. Each lookup of a code on
 * /device (a POST with a code and neither confirm nor abort) counts against the address's
 * `deviceUserCodeIp` budget; past it the page answers 429 with Retry-After before the provider
 * reads the database. Confirming or cancelling a code already found does not count.
 */
export function limitUserCodeLookups(limits: RateLimits, codeVerificationPath: string) {
  return async function limitUserCodeLookupsMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.method === 'POST' && ctx.path === codeVerificationPath) {
      const form = await readFormBody(ctx);
      if (form && single(form.confirm) === undefined && single(form.abort) === undefined)
        await limits.consume(ctx, 'deviceUserCodeIp');
    }
    return next();
  };
}

export interface PollingDeps {
  kv: Pick<KeyValueStore, 'get' | 'set'>;
  /** Now, in epoch ms (createGatehouse's clock). */
  clock: () => number;
  /** config.flows.deviceFlow: the least seconds between polls, and how long a code lives. */
  pollIntervalSeconds: number;
  codeTtlSeconds: number;
}

/**
 * RFC 8628 §3.5: a device that polls the token endpoint sooner than `interval` seconds after its
 * last poll of the same device code is told `slow_down` (and must add 5 seconds to its interval).
 * oidc-provider defines the error but never sends it, so the last poll of each device code is
 * kept (under a digest of the code) in the key-value store, shared by every replica. Every poll
 * counts, refused ones too: a device that does not slow down stays refused.
 */
export function refuseFastPolls(deps: PollingDeps, tokenPath: string) {
  return async function refuseFastPollsMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'POST' || ctx.path !== tokenPath) return next();
    const form = await readFormBody(ctx);
    const deviceCode = form && single(form.grant_type) === DEVICE_CODE_GRANT ? single(form.device_code) : undefined;
    if (!deviceCode) return next();
    const key = `device-poll:${counterKey(deviceCode)}`;
    const now = deps.clock();
    let last: number;
    try {
      last = Number(await deps.kv.get(key));
      await deps.kv.set(key, String(now), deps.codeTtlSeconds);
    } catch {
      // Redis away: the poll goes through. The per-client token limit (which falls back to
      // in-process counters) still bounds a device that polls too fast; sign-ins keep working.
      return next();
    }
    if (Number.isFinite(last) && last > 0 && now - last < deps.pollIntervalSeconds * 1000) {
      ctx.status = 400;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = {
        error: 'slow_down',
        error_description: `poll at most every ${deps.pollIntervalSeconds} seconds, plus 5 after each slow_down`,
      };
      return;
    }
    return next();
  };
}

/**
 * RFC 8628 §3.2 `interval`: oidc-provider leaves it out of the device authorization response,
 * which tells a device 5 seconds; the configured interval is written in once the provider answered.
 */
export function announcePollInterval(pollIntervalSeconds: number, deviceAuthorizationPath: string) {
  return async function announcePollIntervalMiddleware(ctx: Context, next: Next): Promise<void> {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== deviceAuthorizationPath || ctx.status !== 200) return;
    const body: unknown = ctx.body;
    if (typeof body === 'object' && body !== null && 'device_code' in body)
      ctx.body = { ...body, interval: pollIntervalSeconds };
  };
}
