import type { TestServer } from './server.js';
import { discoverRp, oidc } from './rp.js';

export const API = '/admin/api/v1';

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A machine admin: a confidential client_credentials client holding the given admin scopes. */
export async function machineAdmin(server: TestServer, adminScopes: string[]) {
  return server.buildClient({
    name: 'Ops automation', grantTypes: ['client_credentials'], redirectUris: [], postLogoutRedirectUris: [], scope: 'openid', adminScopes,
  });
}

/** An access token for the admin API, obtained with openid-client's client_credentials grant. */
export async function adminToken(server: TestServer, scope = 'admin:read admin:write', adminScopes = ['admin:read', 'admin:write']): Promise<string> {
  const client = await machineAdmin(server, adminScopes);
  const rp = await discoverRp(server.issuer, client);
  const tokens = await oidc.clientCredentialsGrant(rp, { scope });
  return tokens.access_token;
}

/** Calls the admin API; JSON bodies in and out. */
export async function api<T = Record<string, unknown>>(
  server: TestServer, token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {},
): Promise<ApiResponse<T>> {
  const init: RequestInit = {
    method,
    headers: {
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  };
  const response = await fetch(`${server.issuer}${API}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T };
}
