import { UserAgent, type FormFields, type Page } from './user-agent.js';
import type { TestServer } from './server.js';

/** A UserAgent that keeps every Set-Cookie line it was sent, to read the cookies' attributes. */
export class RecordingUserAgent extends UserAgent {
  readonly setCookies: string[] = [];

  override async request(
    url: string,
    init: { method?: string; form?: FormFields; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Page> {
    const page = await super.request(url, init);
    this.setCookies.push(...page.headers.getSetCookie());
    return page;
  }

  /** The attributes of the last `name` cookie set, lower-cased (`samesite=none`, `secure`, …). */
  attributesOf(name: string): string[] | undefined {
    const line = this.setCookies.filter((c) => c.startsWith(`${name}=`) && !/expires=Thu, 01 Jan 1970/i.test(c)).at(-1);
    return line
      ?.split(';')
      .slice(1)
      .map((a) => a.trim().toLowerCase());
  }
}

/**
 * A browser in front of a TLS-terminating proxy: the test server's issuer is https
 * (startTestServer's `issuerScheme`, with `http.trustedProxyHops: 1`) and it listens on
 * plain HTTP, so each request for the issuer goes to the listener with X-Forwarded-Proto.
 */
export class ProxiedUserAgent extends RecordingUserAgent {
  private readonly listening: string;

  constructor(private readonly server: TestServer) {
    const listening = `http://127.0.0.1:${server.gatehouse.config.http.port}`;
    super(listening, { 'x-forwarded-proto': 'https', origin: new URL(server.issuer).origin });
    this.listening = listening;
  }

  override request(
    url: string,
    init: { method?: string; form?: FormFields; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Page> {
    const target = url.startsWith(this.server.issuer) ? this.listening + url.slice(this.server.issuer.length) : url;
    return super.request(target, init);
  }
}
