import { isIP } from 'node:net';
import type { Config } from './schema.js';
import { isTree, type Tree } from './tree.js';
import { isLoopbackHost } from './loopback.js';

/**
 * With no issuer set above config/default.yaml (no ISSUER, none in a GATEHOUSE_CONFIG file or
 * an override), the issuer is http://localhost:<http.port>: `PORT=4900 npm start` then names
 * the port it listens on in discovery and redirects, instead of the default's 3000 (issue 15,
 * item 8). Port 0 (any free port) is known only after listening: the default stays.
 */
export function issuerFollowsPort(tree: Tree, upperLayers: Tree[]): void {
  if (upperLayers.some((layer) => layer.issuer !== undefined)) return;
  const port = isTree(tree.http) ? tree.http.port : undefined;
  if (typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 65535)
    tree.issuer = `http://localhost:${port}`;
}

/**
 * Whether browsers will run WebAuthn ceremonies for this issuer: the RP ID must be a domain
 * (WebAuthn L3 §5.1.4.1 step 8 and §13.4.9; browsers refuse an IP address), so an issuer like
 * http://127.0.0.1:3000 cannot offer passkeys or security keys.
 */
export function passkeysAvailable(config: Pick<Config, 'issuer' | 'webauthn'>): boolean {
  return rpIdUsable(config.webauthn.rpId || new URL(config.issuer).hostname);
}

/** Whether browsers accept this RP ID: a domain name, not an IPv4 or (bracketed) IPv6 address. */
export function rpIdUsable(rpId: string): boolean {
  return isIP(rpId.replace(/^\[|\]$/g, '')) === 0;
}

/** The issuer's port, explicit or the scheme's default. */
function issuerPort(issuer: URL): number {
  return issuer.port ? Number(issuer.port) : issuer.protocol === 'https:' ? 443 : 80;
}

/** One line each for settings that boot but will not work as a new user expects. */
export function issuerWarnings(config: Pick<Config, 'issuer' | 'webauthn'>, listeningPort: number): string[] {
  const issuer = new URL(config.issuer);
  const warnings: string[] = [];
  // A loopback issuer is reached directly (no proxy can stand in front of it for a browser
  // elsewhere), so a port other than the listening one names a server that is not this one.
  if (isLoopbackHost(issuer.hostname) && issuerPort(issuer) !== listeningPort) {
    warnings.push(
      `ISSUER ${issuer.origin} names port ${issuerPort(issuer)}, but the server listens on ${listeningPort}: discovery, redirects and /admin point at the other port; set ISSUER to http://${issuer.hostname}:${listeningPort} or unset it`,
    );
  }
  if (!passkeysAvailable(config)) {
    warnings.push(
      `ISSUER ${issuer.origin} has an IP address as host: passkeys and security keys are unavailable (WebAuthn needs a domain); use localhost or a domain name`,
    );
  }
  return warnings;
}

/**
 * The path prefix everything Gatehouse serves is mounted under: the issuer's path, '' for an
 * issuer that is an origin (`https://id.example.com/auth` → `/auth`). The schema has already
 * refused a trailing slash, so no normalising is done here.
 */
export function issuerBasePath(issuer: string): string {
  const { pathname } = new URL(issuer);
  return pathname === '/' ? '' : pathname;
}
