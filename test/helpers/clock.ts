/**
 * Real time that a test can move forward: give `now` to the code under test (a server's
 * `clock`, a store's `now`) and call `advance(ms)` instead of sleeping for that long.
 */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let skew = 0;
  return {
    now: () => Date.now() + skew,
    advance(ms) {
      skew += ms;
    },
  };
}
