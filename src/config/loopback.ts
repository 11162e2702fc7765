// Its own module: schema.ts (which refuses http elsewhere) and issuer.ts (which reads the
// schema's Config type) both need it, and neither may import the other.

/** Host names that only this machine reaches: http is allowed there (RFC 8252 §8.3). */
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.includes(hostname);
}
