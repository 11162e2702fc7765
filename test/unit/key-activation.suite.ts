import { loadConfig } from '../../src/config/load.js';
import { signingOrder } from '../../src/oidc/keys.js';
import type { SigningKeyRow } from '../../src/storage/entities/signing-key.entity.js';
import { configProblems } from '../helpers/config-problems.js';

type Row = Pick<SigningKeyRow, 'state' | 'createdAt'> & { name: string };

const NOW = Date.parse('2026-01-01T12:00:00Z');
const DELAY_MS = 60_000;
const key = (name: string, state: Row['state'], ageSeconds: number): Row => ({
  name,
  state,
  createdAt: new Date(NOW - ageSeconds * 1000),
});
const order = (rows: Row[]) => {
  const { ordered, activatesAt } = signingOrder(rows, NOW, DELAY_MS);
  return { names: ordered.map((r) => r.name), activatesAt };
};

/** Which key signs across replicas (docs/operations.md, Scaling out): published first, signing after the delay. */
describe('key activation order', () => {
  it('keeps the old key signing while a freshly rotated one is only published, and says when that changes', () => {
    const rows = [key('new', 'active', 10), key('old', 'retired', 86_400)];
    expect(order(rows)).toEqual({ names: ['old', 'new'], activatesAt: NOW + 50_000 });
  });

  it('lets the new key sign once the delay has passed, the old one still published', () => {
    const rows = [key('new', 'active', 61), key('old', 'retired', 86_400)];
    expect(order(rows)).toEqual({ names: ['new', 'old'], activatesAt: null });
  });

  it('signs with the first keys at once on first boot, when nothing older exists', () => {
    expect(order([key('first', 'active', 1)]).names).toEqual(['first']);
  });

  it('never hands signing to a key some replica may not have, after two quick rotations', () => {
    const rows = [key('newest', 'active', 5), key('middle', 'retired', 30), key('oldest', 'retired', 86_400)];
    expect(order(rows)).toEqual({ names: ['oldest', 'newest', 'middle'], activatesAt: NOW + 30_000 });
  });

  it('keeps the first-boot key signing when a rotation comes within the delay after first boot (issue 14, finding 9)', () => {
    // Both keys younger than the delay: the first-boot key is not "not yet active" (every
    // replica loaded it before serving), so the rotated-in one must not outrank it.
    const rows = [key('rotated', 'active', 5), key('first', 'retired', 20)];
    expect(order(rows)).toEqual({ names: ['first', 'rotated'], activatesAt: NOW + 55_000 });
    expect(order([key('rotated', 'active', 61), key('first', 'retired', 76)]).names).toEqual(['rotated', 'first']);
  });

  it('keeps the oldest key signing through two rotations within the delay after first boot', () => {
    const rows = [key('third', 'active', 2), key('second', 'retired', 10), key('first', 'retired', 30)];
    expect(order(rows)).toEqual({ names: ['first', 'third', 'second'], activatesAt: NOW + 50_000 });
  });

  it('signs at once with a zero delay (a single process)', () => {
    const rows = [key('new', 'active', 0), key('old', 'retired', 86_400)];
    expect(signingOrder(rows, NOW, 0).ordered.map((r) => r.name)).toEqual(['new', 'old']);
  });

  it('defaults to a delay of two reload intervals and refuses one not longer than an interval', () => {
    const { keys } = loadConfig({});
    expect(keys.activationDelaySeconds).toBe(2 * keys.reloadIntervalSeconds);
    for (const activationDelaySeconds of [10, 30]) {
      expect(configProblems({}, { keys: { reloadIntervalSeconds: 30, activationDelaySeconds } })).toEqual([
        expect.stringMatching(/^keys\.activationDelaySeconds: must be 0 .* or longer than keys\.reloadIntervalSeconds/),
      ]);
    }
    expect(configProblems({}, { keys: { reloadIntervalSeconds: 30, activationDelaySeconds: 31 } })).toEqual([]);
    expect(configProblems({}, { keys: { activationDelaySeconds: -1 } })).toEqual([
      expect.stringMatching(/^keys\.activationDelaySeconds: /),
    ]);
    expect(configProblems({}, { keys: { activationDelaySeconds: 0 } })).toEqual([]);
  });
});
