import Provider from 'oidc-provider';

/**
 * Values remembered for one HTTP request and dropped with it. The key is the Koa context:
 * the one our middleware sees is the one oidc-provider exposes as `Provider.ctx` (its
 * AsyncLocalStorage, set per request in lib/helpers/initialize_app.js on the context
 * koa-mount hands it), so reads made in front of the provider and in its adapter meet.
 * Outside a request (CLI, background jobs) there is nothing to remember in.
 */
export function requestMemo<V>() {
  // Weak: what a request read goes with its context.
  const byRequest = new WeakMap<object, Map<string, V>>();
  const current = (request: object | undefined): object | undefined => request ?? Provider.ctx;
  return {
    /** This request's values, created on first use; undefined outside a request. */
    of(request?: object): Map<string, V> | undefined {
      const key = current(request);
      if (!key) return undefined;
      let values = byRequest.get(key);
      if (!values) {
        values = new Map();
        byRequest.set(key, values);
      }
      return values;
    },
    /** Drops everything this request remembered. */
    clear(request?: object): void {
      const key = current(request);
      if (key) byRequest.delete(key);
    },
  };
}

/**
 * `read(key)` at most once per request and key; a failed read is not remembered (the request
 * fails with it, and nothing may reuse it).
 */
export function memoised<V>(
  memo: ReturnType<typeof requestMemo<Promise<V>>>,
  key: string,
  read: () => Promise<V>,
  request?: object,
): Promise<V> {
  const values = memo.of(request);
  if (!values) return read();
  const known = values.get(key);
  if (known) return known;
  const pending = read();
  values.set(key, pending);
  pending.catch(() => values.delete(key));
  return pending;
}
