import type Provider from 'oidc-provider';
import type { Config } from '../config/schema.js';
import type { Storage } from '../storage/storage.js';
import type { TokenDigest } from '../security/token-digest.js';
import type { KeyManager } from './keys.js';
import type { ProviderHost } from './provider.js';

/**
 * oidc-provider as the services reach it (initial access tokens are its model; a key rotation
 * rebuilds it). The services are built before the provider, which needs some of them (accounts,
 * second factors), so they ask for it when they use it, never while being built.
 */
export interface ProviderAccess {
  provider(): Provider | Promise<Provider>;
  /** Rebuild the provider after the key set changed; absent where no provider runs (the CLI). */
  reloadKeys?(): Promise<boolean>;
}

/** The server's: the provider host, once it has started (`start(host)` right after createProviderHost). */
export function providerOnceStarted(): ProviderAccess & { start(host: ProviderHost): void } {
  let started: ProviderHost | undefined;
  const host = (): ProviderHost => {
    if (!started) throw new Error('provider not started');
    return started;
  };
  return {
    provider: () => host().current,
    reloadKeys: () => host().reloadKeys(),
    start(running) {
      started = running;
    },
  };
}

/**
 * The CLI's: a provider that serves no HTTP (model-provider.ts), built on first use. Only a
 * command that creates an initial access token needs it; oidc-provider is loaded only then
 * (its import prints a runtime warning on Node 20, which would add a line to every other
 * command's output), and the signing keys are created then if there are none.
 */
export function providerOnDemand(
  config: Config,
  deps: { storage: Storage; keys: KeyManager; tokenDigest: TokenDigest },
): ProviderAccess {
  let built: Provider | undefined;
  return {
    async provider() {
      if (!built) {
        const [{ createAdapter }, { createModelProvider }] = await Promise.all([
          import('./adapter.js'),
          import('./model-provider.js'),
        ]);
        await deps.keys.ensureKeys();
        built = createModelProvider(config, {
          adapter: createAdapter({ oidc: deps.storage.oidc, digest: deps.tokenDigest, clients: deps.storage.clients }),
          keys: await deps.keys.load({ activationDelaySeconds: config.keys.activationDelaySeconds }),
        });
      }
      return built;
    },
  };
}
