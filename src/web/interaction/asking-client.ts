/**
 * Who is asking, as the consent page says it (issue 21): besides the client's name, its logo,
 * where the user will be sent back to, and its privacy policy and terms when registered.
 */
export interface AskingClient {
  /** Shown only from the origin of the redirect URI (docs/decisions.md); `origin` goes into img-src. */
  logo?: { src: string; origin: string };
  /** The host of the redirect URI, or a native app's scheme ("com.example.app") where it has none. */
  returnTo?: string;
  policyUri?: string;
  tosUri?: string;
}

const urlOf = (value: unknown): URL | undefined => {
  if (typeof value !== 'string') return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
};

/** A link the page may show: http(s) only, whatever the registration let through. */
const webLink = (value: unknown): string | undefined => {
  const url = urlOf(value);
  return url && (url.protocol === 'https:' || url.protocol === 'http:') ? url.href : undefined;
};

/**
 * From the client's metadata and the interaction's redirect_uri (which the provider has
 * checked against the registered ones before the interaction began).
 * The logo is shown only when it is https on the redirect URI's own origin: the browser then
 * asks no one but the site the user is about to be sent to (no third-party tracking, nothing
 * learnt that the redirect will not tell it anyway), and the CSP's img-src grows by that one
 * origin on this one response. A logo elsewhere is left out rather than fetched for it.
 */
export function askingClient(metadata: Record<string, unknown>, redirectUri: unknown): AskingClient {
  const redirect = urlOf(redirectUri);
  const logo = urlOf(metadata.logo_uri);
  const asking: AskingClient = {};
  if (logo && redirect && logo.protocol === 'https:' && logo.origin === redirect.origin)
    asking.logo = { src: logo.href, origin: logo.origin };
  if (redirect) asking.returnTo = redirect.host || redirect.protocol.replace(/:$/, '');
  const policyUri = webLink(metadata.policy_uri);
  const tosUri = webLink(metadata.tos_uri);
  if (policyUri) asking.policyUri = policyUri;
  if (tosUri) asking.tosUri = tosUri;
  return asking;
}
