/**
 * A minimal browser for integration tests: keeps cookies, follows redirects one step at a
 * time, and fills in Gatehouse's sign-in forms. The relying party side is openid-client.
 */
export interface Page {
  status: number;
  url: string;
  location: string | null;
  html: string;
  headers: Headers;
}

/** Form fields; a list is sent as the same field repeated (checkboxes). */
export type FormFields = Record<string, string | string[]>;

function formBody(fields: FormFields): string {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
  }
  return body.toString();
}

export class UserAgent {
  readonly cookies = new Map<string, string>();

  private readonly origin: string;

  /**
   * `site` is the issuer (or any URL of the site): the browser's origin is taken from it, so an
   * issuer with a path prefix gives the Origin header a browser sends. `headers` go with every
   * request: a browser's own User-Agent, say.
   */
  constructor(
    site: string,
    private readonly headers: Record<string, string> = {},
  ) {
    this.origin = new URL(site).origin;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired =
        attrs.some((a) => /^\s*expires=/i.test(a) && new Date(a.split('=')[1] ?? '').getTime() < Date.now()) ||
        attrs.some((a) => /^\s*max-age=0/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(
    url: string,
    init: { method?: string; form?: FormFields; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Page> {
    const target = new URL(url, this.origin).toString();
    const sameOrigin = target.startsWith(this.origin);
    const headers: Record<string, string> = { accept: 'text/html', ...this.headers, ...init.headers };
    if (sameOrigin && this.cookies.size > 0) headers.cookie = this.cookieHeader();
    let body: string | undefined;
    if (init.form) {
      body = formBody(init.form);
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin ??= this.origin;
    } else if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers['content-type'] ??= 'application/json';
      headers.accept = 'application/json';
      headers.origin ??= this.origin;
    }
    const res = await fetch(target, {
      method: init.method ?? (body !== undefined ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    if (sameOrigin) this.store(res.headers);
    const location = res.headers.get('location');
    return {
      status: res.status,
      url: target,
      location: location ? new URL(location, target).toString() : null,
      html: await res.text(),
      headers: res.headers,
    };
  }

  get(url: string): Promise<Page> {
    return this.request(url);
  }

  post(url: string, form: FormFields, headers?: Record<string, string>): Promise<Page> {
    return this.request(url, { form, headers });
  }

  /** A fetch() POST of JSON from this site's pages (Origin set unless `headers` overrides it). */
  postJson(url: string, json: unknown, headers?: Record<string, string>): Promise<Page> {
    return this.request(url, { json, headers });
  }
}

export function csrfToken(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token on page');
  return match[1];
}

export function formAction(html: string, endsWith: string): string | undefined {
  const re = /<form[^>]*action="([^"]+)"/g;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    if (m[1]?.endsWith(endsWith)) return m[1];
  }
  return undefined;
}

export interface SignInOptions {
  email: string;
  password: string;
  /** What to answer on a consent page; undefined fails the flow if one appears. */
  consent?: 'allow' | 'deny';
  selectAccount?: 'continue' | 'switch';
}

export interface FlowTrace {
  /** The URL the OP finally redirected to (the RP's redirect_uri with code or error). */
  callbackUrl: string;
  /** Every page shown on the way, by kind. */
  pages: Array<'login' | 'consent' | 'select_account'>;
  /** Status codes of the POSTs made. */
  postStatuses: number[];
}

/** Follows an authorization request through Gatehouse's pages to the RP's redirect URI. */
export async function runAuthorization(
  ua: UserAgent,
  authUrl: string,
  redirectUri: string,
  options: SignInOptions,
): Promise<FlowTrace> {
  const trace: FlowTrace = { callbackUrl: '', pages: [], postStatuses: [] };
  let page = await ua.get(authUrl);
  for (let step = 0; step < 20; step++) {
    if (page.location) {
      if (page.location.startsWith(redirectUri)) {
        trace.callbackUrl = page.location;
        return trace;
      }
      page = await ua.get(page.location);
      continue;
    }
    if (page.status >= 400 && !formAction(page.html, '/login')) {
      throw new Error(
        `flow stopped with ${page.status}: ${page.html
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .slice(0, 300)}`,
      );
    }
    const select = formAction(page.html, '/select-account');
    const login = formAction(page.html, '/login');
    const consent = formAction(page.html, '/consent');
    if (select) {
      trace.pages.push('select_account');
      page = await ua.post(select, { csrf: csrfToken(page.html), action: options.selectAccount ?? 'continue' });
    } else if (login) {
      if (trace.pages.filter((p) => p === 'login').length > 0 && page.status >= 400) {
        throw new Error(`sign-in refused with ${page.status}`);
      }
      trace.pages.push('login');
      page = await ua.post(login, { csrf: csrfToken(page.html), email: options.email, password: options.password });
    } else if (consent) {
      trace.pages.push('consent');
      if (!options.consent) throw new Error('unexpected consent page');
      page = await ua.post(consent, { csrf: csrfToken(page.html), decision: options.consent });
    } else {
      throw new Error(`unexpected page ${page.status}: ${page.html.slice(0, 300)}`);
    }
    trace.postStatuses.push(page.status);
  }
  throw new Error('too many steps');
}
