import type { Context, Middleware, Next } from 'koa';
import mount from 'koa-mount';
import Provider, { type Configuration } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { KeyManager, KeyMaterial } from './keys.js';
import { attachProviderEvents } from './events.js';
import { metadataMaxAge, snapshotMetadata, type MetadataSnapshot } from './metadata-snapshot.js';
import type { AuditLog } from '../security/audit.js';
import { proxyTrust } from '../http/proxy-trust.js';

/**
 * Holds the running Provider. oidc-provider takes its keys at construction, so when the
 * key set in the database changes (`gatehouse keys rotate` on any replica), or a published
 * key reaches its activation time and starts to sign, a new Provider is built with the keys
 * in their new order and swapped in; all of its state lives in the adapter, so requests in
 * flight and sessions are unaffected. It takes its claims at construction too, and the
 * custom attributes admins define are claims: a changed attribute schema rebuilds it the same way.
 */
export interface ProviderHost {
  readonly current: Provider;
  /** Cookie-signing keys of the current provider, newest first. */
  readonly cookieKeys: string[];
  /**
   * The current provider's discovery document and JWKS as it answers them, taken when it was
   * built; null when that failed (the provider then answers them itself).
   */
  readonly metadata: MetadataSnapshot | null;
  /** Koa middleware that hands the request to the current provider. */
  readonly middleware: Middleware;
  /**
   * Checks the database for a changed key set or attribute schema, and for keys due to sign;
   * true when the provider was rebuilt.
   */
  reloadKeys(): Promise<boolean>;
  /**
   * Attaches event listeners to the current provider and each one built later, for what needs
   * the host itself (back-channel logout signs with the current provider's keys). Listeners
   * only: middleware added now would miss the current provider, mounted when it was built.
   */
  extend(extension: (provider: Provider) => void): void;
  stop(): void;
}

export async function createProviderHost(
  config: Config,
  deps: {
    keys: KeyManager;
    /** What else the options are built from (the attribute schema): a new value rebuilds the provider. */
    schemaFingerprint?: () => Promise<string>;
    buildOptions: (keys: KeyMaterial) => Configuration | Promise<Configuration>;
    log: Logger;
    audit: AuditLog;
    /** Attaches further listeners and middleware to each Provider built (session activity, metrics). */
    extend?: (provider: Provider) => void;
  },
): Promise<ProviderHost> {
  // The snapshot is taken before the new provider is swapped in, so the JWKS served from
  // bytes never lags behind the keys the provider signs with.
  const extensions = deps.extend ? [deps.extend] : [];
  const build = async (material: KeyMaterial) => {
    const provider = new Provider(config.issuer, await deps.buildOptions(material));
    // The same trust as Gatehouse's app (src/app.ts): one client address and origin everywhere.
    ({ proxy: provider.proxy, maxIpsCount: provider.maxIpsCount } = proxyTrust(config.http.trustedProxyHops));
    attachProviderEvents(provider, deps.log, deps.audit);
    for (const extension of extensions) extension(provider);
    const metadata = await snapshotMetadata(provider, config.issuer, metadataMaxAge(config.keys)).catch(
      (err: unknown) => {
        deps.log.warn({ err }, 'could not precompute discovery and JWKS; the provider will answer them');
        return null;
      },
    );
    return {
      provider,
      mounted: mount(provider),
      cookieKeys: material.cookieKeys,
      activatesAt: material.activatesAt,
      metadata,
    };
  };
  const load = () => deps.keys.load({ activationDelaySeconds: config.keys.activationDelaySeconds });

  const fingerprintNow = async () => ({
    keys: await deps.keys.fingerprint(),
    schema: (await deps.schemaFingerprint?.()) ?? '',
  });
  let fingerprint = await fingerprintNow();
  let state = await build(await load());

  const reloadKeys = async () => {
    const next = await fingerprintNow();
    const activating = state.activatesAt !== null && Date.now() >= state.activatesAt;
    const keysChanged = next.keys !== fingerprint.keys || activating;
    if (!keysChanged && next.schema === fingerprint.schema) return false;
    state = await build(await load());
    fingerprint = next;
    deps.log.info(
      keysChanged ? 'signing keys changed; provider reloaded' : 'attribute schema changed; provider reloaded',
    );
    return true;
  };

  const timer = setInterval(() => {
    reloadKeys().catch((err: unknown) => deps.log.warn({ err }, 'key reload failed'));
  }, config.keys.reloadIntervalSeconds * 1000);
  timer.unref();

  return {
    get current() {
      return state.provider;
    },
    get cookieKeys() {
      return state.cookieKeys;
    },
    get metadata() {
      return state.metadata;
    },
    middleware: (ctx: Context, next: Next) => state.mounted(ctx, next),
    reloadKeys,
    extend(extension) {
      extensions.push(extension);
      extension(state.provider);
    },
    stop: () => clearInterval(timer),
  };
}
