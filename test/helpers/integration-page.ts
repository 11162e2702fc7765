import type { Page, UserAgent } from './user-agent.js';
import { csrfToken } from './user-agent.js';

/** What EJS's `<%= %>` escapes, undone: the text a person selects and copies. */
function unescapeHtml(html: string): string {
  return html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#34;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** A snippet of a client's integration page (`<code data-snippet="id">`), as copied from it. */
export function snippetOn(html: string, id: string): string {
  const match = new RegExp(`<code data-snippet="${id}">([\\s\\S]*?)</code>`).exec(html);
  if (match?.[1] === undefined) throw new Error(`no snippet ${id} on the page`);
  return unescapeHtml(match[1]);
}

export interface NewApplication {
  clientId: string;
  /** Shown once on the page after the redirect; undefined for a public client. */
  clientSecret: string | undefined;
}

/**
 * Registers an application through the console's "New application" short form of `type`
 * (`from` is any console page, for its CSRF token), then reads the one-time secret page if
 * the client has a secret.
 */
export async function createApplication(
  ua: UserAgent,
  from: Page,
  type: string,
  fields: { name: string; redirect_uris?: string },
): Promise<NewApplication> {
  const created = await ua.post(`/admin/clients/new/${type}`, { csrf: csrfToken(from.html), ...fields });
  if (created.status !== 303 || !created.location) throw new Error(`not created: ${created.status} ${created.html}`);
  const secretPage = /\/admin\/clients\/([^/]+)\/secret\/[\w-]+$/.exec(created.location);
  if (!secretPage) {
    const id = /\/admin\/clients\/([^/]+)\/integration\?done=client-created$/.exec(created.location)?.[1];
    if (!id) throw new Error(`unexpected redirect ${created.location}`);
    return { clientId: decodeURIComponent(id), clientSecret: undefined };
  }
  const shown = await ua.get(created.location);
  const secret = /id="client-secret"[^>]*value="([^"]+)"/.exec(shown.html)?.[1];
  return { clientId: decodeURIComponent(secretPage[1] ?? ''), clientSecret: secret };
}
