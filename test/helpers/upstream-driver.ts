/**
 * Drives an upstream's authorization step without a browser: follows its redirects with the
 * cookies it sets, until it sends the browser to `callbackUri` (a redirect, or Apple's
 * form_post page), and returns the callback's parameters. Gatehouse's callback is not called:
 * the test hands the parameters to the federation service as the web layer would.
 */
export async function followToCallback(
  start: URL | string,
  callbackUri: string,
  /** The upstream's cookies, kept for later (its session, for its sign-out). */
  cookies = new Map<string, string>(),
): Promise<Record<string, string>> {
  let url = new URL(start);
  for (let hop = 0; hop < 20; hop += 1) {
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([n, v]) => `${n}=${v}`).join('; ') },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (!value || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, url);
      if (`${next.origin}${next.pathname}` === callbackUri) return Object.fromEntries(next.searchParams);
      url = next;
      continue;
    }
    const body = await response.text();
    const form = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(body);
    if (response.status === 200 && form?.[1] === callbackUri) {
      const params: Record<string, string> = {};
      for (const input of body.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi)) {
        params[input[1] ?? ''] = (input[2] ?? '')
          .replace(/&amp;/g, '&')
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'");
      }
      return params;
    }
    throw new Error(`the upstream stopped at ${url.pathname} with ${response.status}: ${body.slice(0, 300)}`);
  }
  throw new Error('too many redirects');
}
