import { isLoopbackHost } from '../config/loopback.js';
import { InvalidInputError } from '../errors/domain-errors.js';

/**
 * Redirect URIs: absolute, https (http only on loopback, for native and development
 * clients, RFC 8252 §7.3), no fragment (RFC 6749 §3.1.2), no wildcard; compared exactly.
 */
export function checkRedirectUri(field: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInputError(field, `"${value}" is not an absolute URL`);
  }
  if (url.hash || value.includes('#')) throw new InvalidInputError(field, `"${value}" must not contain a fragment`);
  if (value.includes('*')) throw new InvalidInputError(field, `"${value}" must not contain a wildcard`);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new InvalidInputError(field, `"${value}" must use https (http is allowed only on localhost/127.0.0.1/[::1])`);
  }
  if (url.username || url.password) throw new InvalidInputError(field, `"${value}" must not contain credentials`);
  return value;
}
