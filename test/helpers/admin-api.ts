import type { TestClient, TestUser } from './factories.js';
import { lateBound } from './late-bound.js';
import { startTestServer, useTestServer, type TestServer, type TestServerOptions } from './server.js';
import type { Backend } from './backends.js';
import type { ConfigOverrides } from '../../src/config/schema.js';
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
    name: 'Ops automation',
    grantTypes: ['client_credentials'],
    redirectUris: [],
    postLogoutRedirectUris: [],
    scope: 'openid',
    adminScopes,
  });
}

/** An access token for the admin API, obtained with openid-client's client_credentials grant. */
export async function adminToken(
  server: TestServer,
  scope = 'admin:read admin:write',
  adminScopes = ['admin:read', 'admin:write'],
): Promise<string> {
  return (await adminCaller(server, adminScopes, scope)).token;
}

/** Calls the admin API; JSON bodies in and out. */
export async function api<T = Record<string, unknown>>(
  server: TestServer,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
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

/** A machine admin's token together with the client it was issued to (audit events name that client). */
export async function adminCaller(
  server: TestServer,
  adminScopes = ['admin:read', 'admin:write'],
  scope = adminScopes.join(' '),
): Promise<{ token: string; clientId: string }> {
  const client = await machineAdmin(server, adminScopes);
  const rp = await discoverRp(server.issuer, client);
  const tokens = await oidc.clientCredentialsGrant(rp, { scope });
  return { token: tokens.access_token, clientId: client.clientId };
}

/** A fresh server and a machine admin calling it: the set-up of every admin API suite. */
export async function startAdminApi(
  backend: Backend,
  overrides: ConfigOverrides = {},
  options: TestServerOptions = {},
): Promise<{ server: TestServer; call: ApiCall; clientId: string }> {
  const server = await startTestServer(backend, overrides, options);
  const caller = await adminCaller(server);
  return { server, call: apiAs(server, caller.token), clientId: caller.clientId };
}

/**
 * startAdminApi as a suite header (useTestServer): the server boots in `beforeAll`, the machine
 * admin's token is fetched after it, and `call` uses that token once the hooks have run.
 */
export function useAdminApi(
  backend: Backend,
  overrides: ConfigOverrides = {},
  options: TestServerOptions = {},
): { server: TestServer; call: ApiCall } {
  const server = useTestServer(backend, overrides, options);
  const caller = lateBound<{ token: string }>('useAdminApi: the admin token');
  beforeAll(async () => {
    caller.set(await adminCaller(server));
  });
  const call = <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => api<T>(server, caller.handle.token, method, path, body, headers);
  return { server, call };
}

/** An admin API client bound to one server and token: `call('GET', '/users')`. */
export function apiAs(server: TestServer, token: string) {
  return <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => api<T>(server, token, method, path, body, headers);
}

export type ApiCall = ReturnType<typeof apiAs>;

/** Asserts a 400 (or the given status) whose body names `field`. */
export function expectFieldError(response: ApiResponse, field: string, status = 400): void {
  expect({ status: response.status, field: response.body.field }).toEqual({ status, field });
  expect(response.body.error).toBe(status === 409 ? 'conflict' : 'invalid_request');
}

/** Asserts the status, showing the body when it differs; returns the body. */
export function expectStatus<T>(response: ApiResponse<T>, status: number): T {
  expect({ status: response.status, body: response.status === status ? undefined : response.body }).toEqual({
    status,
    body: undefined,
  });
  return response.body;
}

export interface PageBody<T> {
  items: T[];
  next_cursor: string | null;
}

/** Follows next_cursor from the first page until it is null; returns every page. */
export async function allPages<T>(call: ApiCall, path: string, maxPages = 100): Promise<Array<PageBody<T>>> {
  const pages: Array<PageBody<T>> = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page: PageBody<T> = expectStatus(
      await call<PageBody<T>>('GET', cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path),
      200,
    );
    pages.push(page);
    cursor = page.next_cursor;
  } while (cursor !== null && pages.length < maxPages);
  if (cursor !== null) throw new Error(`more than ${maxPages} pages at ${path}`);
  return pages;
}

/** What GET/POST /clients return, as the test factories' client for openid-client sign-ins. */
export function testClientOf(
  view: Record<string, unknown>,
  clientSecret = view.client_secret as string | null | undefined,
): TestClient {
  const redirectUris = view.redirect_uris as string[];
  return {
    clientId: view.client_id as string,
    clientSecret: clientSecret ?? null,
    redirectUri: redirectUris[0] ?? '',
    input: {
      name: view.name as string,
      redirectUris,
      postLogoutRedirectUris: view.post_logout_redirect_uris as string[],
      public: view.public as boolean,
      firstParty: view.first_party as boolean,
      grantTypes: view.grant_types as string[],
      scope: view.scope as string,
    },
  };
}

/** A user the admin API created or imported, as the test factories' user for a real sign-in. */
export function testUserOf(view: { id: string; email: string }, password: string): TestUser {
  return { ...(view as unknown as TestUser), password };
}

/** A cursor this API did not issue, built the way its cursors are (base64url JSON [created_at, id]). */
export function forgedCursor(id: string, at = '2020-01-01T00:00:00.000Z'): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}
