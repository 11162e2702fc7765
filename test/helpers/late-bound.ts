/**
 * A stand-in for a value that a hook sets later: `handle` forwards every read to the value set,
 * and throws naming `what` while there is none. `take` unsets and returns it.
 */
export function lateBound<T extends object>(what: string): { handle: T; set(value: T): void; take(): T | undefined } {
  let current: T | undefined;
  const value = (): T => {
    if (!current)
      throw new Error(`${what} is read before its beforeAll set it (or after afterAll); read it inside a hook or test`);
    return current;
  };
  const handle = new Proxy({} as T, {
    get: (_target, key) => Reflect.get(value(), key) as unknown,
    has: (_target, key) => Reflect.has(value(), key),
    ownKeys: () => Reflect.ownKeys(value()),
    getOwnPropertyDescriptor: (_target, key) => Reflect.getOwnPropertyDescriptor(value(), key),
  });
  return {
    handle,
    set: (next) => {
      current = next;
    },
    take: () => {
      const taken = current;
      current = undefined;
      return taken;
    },
  };
}
