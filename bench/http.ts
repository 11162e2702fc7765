/**
 * The load generator's HTTP side: plain fetch (undici, built into Node) with redirects
 * followed by hand, one cookie jar per simulated browser, and the client's form-encoded
 * token requests. Every request carries a timeout so no operation can hang a phase.
 */

export const REQUEST_TIMEOUT_MS = 15_000;

export interface Response {
  status: number;
  location: string | null;
  body: string;
}

/** A one-visit browser: keeps the cookies one origin sets, never follows redirects itself. */
export class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly origin: string) {}

  private remember(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const pair = line.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = /;\s*max-age=0/i.test(line) || /;\s*expires=Thu, 01 Jan 1970/i.test(line);
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(url: string, form?: Record<string, string>): Promise<Response> {
    const target = new URL(url, this.origin);
    const headers: Record<string, string> = { accept: 'text/html' };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = this.origin;
    }
    const res = await fetch(target, {
      method: form ? 'POST' : 'GET',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    this.remember(res.headers);
    const location = res.headers.get('location');
    return {
      status: res.status,
      location: location ? new URL(location, target).toString() : null,
      body: await res.text(),
    };
  }
}

/** RFC 6749 §2.3.1: the client id and secret are form-urlencoded before base64. */
export function basicAuth(clientId: string, clientSecret: string): string {
  const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  return 'Basic ' + Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64');
}

export interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  token_type?: string;
  error?: string;
  error_description?: string;
}

export class OperationError extends Error {
  override name = 'OperationError';
}

/** POST to the token endpoint; anything but a 200 with an access token is an error. */
export async function tokenRequest(
  tokenEndpoint: string,
  authorization: string,
  params: Record<string, string>,
): Promise<TokenResponse> {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let json: TokenResponse;
  try {
    json = JSON.parse(text) as TokenResponse;
  } catch {
    throw new OperationError(`token endpoint answered ${res.status} with non-JSON: ${text.slice(0, 120)}`);
  }
  if (res.status !== 200 || !json.access_token) {
    throw new OperationError(
      `token endpoint answered ${res.status} ${json.error ?? ''} ${json.error_description ?? ''}`.trim(),
    );
  }
  return json;
}

/** GET a public JSON document (discovery, JWKS) unconditionally; anything but a 200 with a body is an error. */
export async function getDocument(url: string): Promise<void> {
  const res = await fetch(url, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = await res.arrayBuffer();
  if (res.status !== 200 || body.byteLength === 0)
    throw new OperationError(`${url} answered ${res.status} with ${body.byteLength} bytes`);
}

async function jsonBody(res: globalThis.Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json === 'object' && json !== null) return json as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new OperationError(`${what} answered ${res.status} with non-JSON: ${text.slice(0, 120)}`);
}

/** POST to the introspection endpoint (RFC 7662 §2.1); anything but an active token is an error. */
export async function introspect(endpoint: string, authorization: string, token: string): Promise<void> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const json = await jsonBody(res, 'introspection');
  if (res.status !== 200 || json.active !== true)
    throw new OperationError(`introspection answered ${res.status} active=${String(json.active)}`);
}

/** GET userinfo with a Bearer token (OIDC Core §5.3.1); anything but a 200 with `sub` is an error. */
export async function userinfoRequest(endpoint: string, accessToken: string): Promise<void> {
  const res = await fetch(endpoint, {
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const json = await jsonBody(res, 'userinfo');
  if (res.status !== 200 || typeof json.sub !== 'string')
    throw new OperationError(`userinfo answered ${res.status} ${String(json.error ?? '')}`);
}
