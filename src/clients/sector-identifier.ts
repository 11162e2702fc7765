import { request } from 'node:https';
import { lookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { isLoopbackHost } from '../config/loopback.js';
import { InvalidInputError } from '../errors/domain-errors.js';

/** Checks a client's sector_identifier_uri against its redirect URIs; refuses with InvalidInputError. */
export type SectorCheck = (uri: string, redirectUris: readonly string[]) => Promise<void>;

const FIELD = 'sector_identifier_uri';
const TIMEOUT_MS = 5000;
const MAX_BYTES = 64 * 1024;

/** Addresses a fetch on behalf of a client must never reach (SSRF): private, loopback, link-local, multicast. */
const SPECIAL_USE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 3],
] as const)
  SPECIAL_USE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 127],
  ['::ffff:0:0', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  SPECIAL_USE.addSubnet(net, prefix, 'ipv6');

const refused = (message: string) => new InvalidInputError(FIELD, message);

/**
 * OIDC Core §8.1: the sector_identifier_uri is fetched over https and must hold a JSON array
 * with every redirect URI of the client. Checked when an admin saves the client and at dynamic
 * registration, not at each sign-in (oidc-provider's own load-time fetch is off, options.ts):
 * a sector document that later goes away must not break a client that was valid.
 * Only public addresses are fetched; an issuer on loopback (development, the tests) may reach a
 * loopback address, whose certificate, which cannot be publicly trusted, is then not verified.
 */
export function createSectorCheck(issuer: string): SectorCheck {
  const localIssuer = isLoopbackHost(new URL(issuer).hostname);
  const allowed = (address: string, family: number) =>
    !SPECIAL_USE.check(address, family === 6 ? 'ipv6' : 'ipv4') ||
    (localIssuer && isLoopbackHost(family === 6 ? `[${address}]` : address));

  function fetchText(url: URL): Promise<{ status: number; body: string }> {
    const loopback = localIssuer && isLoopbackHost(url.hostname);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'GET',
          headers: { accept: 'application/json' },
          timeout: TIMEOUT_MS,
          rejectUnauthorized: !loopback,
          // The address actually connected to is the one checked (no second resolution).
          lookup: (hostname, options, callback) => {
            lookup(hostname, { family: options.family, all: false }, (error, address, family) => {
              if (error) return callback(error, '', 0);
              if (!allowed(address, family)) return callback(new Error('special-use address'), '', 0);
              return callback(null, address, family);
            });
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BYTES) req.destroy(new Error('too large'));
            else chunks.push(chunk);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  }

  return async function checkSectorIdentifier(uri, redirectUris) {
    const url = new URL(uri);
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && !allowed(literal, isIP(literal))) throw refused('must not point at a private address');
    let response: { status: number; body: string };
    try {
      response = await fetchText(url);
    } catch {
      throw refused('could not be fetched');
    }
    if (response.status !== 200) throw refused(`answered ${response.status}, not 200`);
    let listed: unknown;
    try {
      listed = JSON.parse(response.body);
    } catch {
      throw refused('does not hold JSON');
    }
    if (!Array.isArray(listed) || listed.some((v) => typeof v !== 'string'))
      throw refused('must hold a JSON array of redirect URIs');
    const missing = redirectUris.find((u) => !(listed as string[]).includes(u));
    if (missing !== undefined) throw refused(`does not list the redirect URI ${missing}`);
  };
}
