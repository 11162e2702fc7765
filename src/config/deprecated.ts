/**
 * Settings that were replaced: read once at boot, mapped onto their successors with a warning,
 * and removed from the tree before the schema sees it (docs/decisions.md, "Trusted proxies",
 * "Renamed settings"). One table, one reader: a new deprecation is a row, not new code.
 */

import { isDeepStrictEqual } from 'node:util';
import { deepMerge, isTree, type Tree } from './tree.js';

/** A replaced setting and its successor, both keys of the same section of the tree. */
interface Replacement {
  section: string;
  old: string;
  successor: string;
  /**
   * The successor's value read from the old one (`current`: the successor's value in the merged
   * tree, i.e. its default unless set on purpose), or a `problem` line when the old value is malformed.
   */
  map(old: unknown, current: unknown): { value: unknown } | { problem: string };
  /**
   * Whether the old value (as mapped) and a successor set on purpose say the same; undefined
   * when the successor itself is malformed (the schema then reports it).
   */
  agrees(mapped: unknown, successor: unknown): boolean | undefined;
  /** What the log says when the old value is used. */
  readAs(old: unknown, mapped: unknown): string;
  /** What the log says when both are set and agree: the successor applies. */
  ignored(successor: unknown): string;
  /** The boot error line when both are set and disagree. */
  contradicts(old: unknown, successor: unknown): string;
}

const REPLACEMENTS: readonly Replacement[] = [
  {
    /**
     * `http.trustProxy` (env TRUST_PROXY) trusted X-Forwarded-For as a whole, so that its
     * left-most, client-written entry was the client address. `http.trustedProxyHops` replaces
     * it: `true` meant one proxy in front (what the Helm chart and the docs set), so it reads as
     * 1, `false` as 0. Set together, the two must agree on whether there is a proxy at all; the
     * hop count then comes from `trustedProxyHops`.
     */
    section: 'http',
    old: 'trustProxy',
    successor: 'trustedProxyHops',
    map: (old) =>
      typeof old === 'boolean'
        ? { value: old ? 1 : 0 }
        : { problem: 'http.trustProxy: must be true or false (deprecated: set http.trustedProxyHops instead)' },
    agrees: (mapped, hops) => (typeof hops === 'number' ? (mapped === 1) === hops > 0 : undefined),
    readAs: (_old, mapped) =>
      `TRUST_PROXY (http.trustProxy) is deprecated and read as TRUSTED_PROXY_HOPS=${String(mapped)}: set TRUSTED_PROXY_HOPS to the number of proxies in front that append to X-Forwarded-For, and remove TRUST_PROXY (docs/operations.md)`,
    ignored: (hops) =>
      `TRUST_PROXY (http.trustProxy) is deprecated and ignored: TRUSTED_PROXY_HOPS=${String(hops)} applies; remove TRUST_PROXY`,
    contradicts: (old, hops) =>
      `http.trustProxy: TRUST_PROXY=${String(old)} contradicts TRUSTED_PROXY_HOPS=${String(hops)} (http.trustedProxyHops); remove TRUST_PROXY, which TRUSTED_PROXY_HOPS replaces`,
  },
  {
    /**
     * `rateLimits.registrationIp` limited the sign-up form, not client registration (RFC 7591),
     * which the name suggested (docs/architecture.md, glossary). Same value, new name; as
     * before the rename, a partial policy fills in from the default. The schema validates
     * whichever one applies.
     */
    section: 'rateLimits',
    old: 'registrationIp',
    successor: 'signUpIp',
    map: (old, current) => ({ value: isTree(old) && isTree(current) ? deepMerge(current, old) : old }),
    agrees: (mapped, current) => isDeepStrictEqual(mapped, current),
    readAs: () =>
      'rateLimits.registrationIp is deprecated and read as rateLimits.signUpIp: rename the key in your settings file',
    ignored: () =>
      'rateLimits.registrationIp is deprecated and ignored: rateLimits.signUpIp, set to the same value, applies; remove rateLimits.registrationIp',
    contradicts: () =>
      'rateLimits.registrationIp: contradicts rateLimits.signUpIp, which replaces it; remove rateLimits.registrationIp',
  },
];

/**
 * Maps every replaced setting in `tree` onto its successor and removes it.
 *
 * @param tree every layer merged; the old keys are removed from it
 * @param upperLayers the layers above config/default.yaml, which alone can set a successor on purpose
 */
export function replaceDeprecated(
  tree: Tree,
  upperLayers: Tree[],
  problems: string[],
  warn: (message: string) => void,
): void {
  for (const replacement of REPLACEMENTS) replace(replacement, tree, upperLayers, problems, warn);
}

function replace(
  r: Replacement,
  tree: Tree,
  upperLayers: Tree[],
  problems: string[],
  warn: (message: string) => void,
): void {
  const section = tree[r.section];
  if (!isTree(section) || !(r.old in section)) return;
  const { [r.old]: old, ...rest } = section;
  tree[r.section] = rest;
  const mapped = r.map(old, rest[r.successor]);
  if ('problem' in mapped) {
    problems.push(mapped.problem);
    return;
  }
  const successorSet = upperLayers.some((layer) => {
    const layerSection = layer[r.section];
    return isTree(layerSection) && layerSection[r.successor] !== undefined;
  });
  if (!successorSet) {
    rest[r.successor] = mapped.value;
    warn(r.readAs(old, mapped.value));
    return;
  }
  const current = rest[r.successor];
  const agrees = r.agrees(mapped.value, current);
  if (agrees === undefined) return;
  if (!agrees) {
    problems.push(r.contradicts(old, current));
    return;
  }
  warn(r.ignored(current));
}
