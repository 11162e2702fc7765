/** oidc-provider's request store (lib/helpers/als.js): what Provider.ctx reads. Tests only. */
declare module 'oidc-provider/lib/helpers/als.js' {
  import type { AsyncLocalStorage } from 'node:async_hooks';
  const als: AsyncLocalStorage<object>;
  export default als;
}
