/**
 * The integration page's copy-paste snippets (issue 21): one template per relying-party library,
 * filled in with the client's real values. Every value enters a snippet through the quoting of
 * that snippet's language, never pasted raw: a redirect URI with a quote or a backslash stays one
 * string. The page HTML-escapes the result (`<%= %>`). No snippet ever holds a client secret:
 * Gatehouse keeps only its digest; a snippet reads it from the environment and says so.
 */

/** What a snippet is filled in with: the client as the application sees it. */
export interface IntegrationValues {
  issuer: string;
  discoveryUrl: string;
  clientId: string;
  /** The redirect URI the snippets use (the client's first); undefined when it has none. */
  redirectUri: string | undefined;
  postLogoutRedirectUri: string | undefined;
  /** Space-separated, as registered. */
  scope: string;
  /** client_secret_basic, client_secret_post, private_key_jwt or none. */
  authMethod: string;
}

export interface Snippet {
  /** Stable id: the page's `data-snippet` and its anchor. */
  id: string;
  title: string;
  /** Where it goes (a file name or what the code is). */
  file: string;
  code: string;
  /** A line under the code: what to do with the secret, what the library needs besides. */
  note?: string;
}

/**
 * A double-quoted string literal valid in JavaScript, Python 3, YAML (1.2, a superset of JSON),
 * C# and Go: JSON's escapes (\" \\ \b \f \n \r \t \uXXXX) mean the same in all five.
 */
const quoted = (value: string): string => JSON.stringify(value);

/**
 * An Apache configuration argument: in double quotes, `\"` and `\\` are its only escapes
 * (ap_getword_conf). A directive is one line: a control character (which no URL needs; the
 * browser would send it percent-encoded) is written percent-encoded.
 */
const apacheQuoted = (value: string): string =>
  `"${value
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`)
    .replace(/[\\"]/g, (c) => `\\${c}`)}"`;

const SECRET_ENV = 'GATEHOUSE_CLIENT_SECRET';
const SECRET_NOTE = `Set ${SECRET_ENV} to the client secret shown once when the client was created (or a new one from "Issue a new secret"); Gatehouse cannot show it again.`;

const scopesOf = (v: IntegrationValues): string[] => v.scope.split(' ').filter(Boolean);
const usesSecret = (v: IntegrationValues): boolean =>
  v.authMethod === 'client_secret_basic' || v.authMethod === 'client_secret_post';
/** A development issuer on http (loopback only: the config refuses http elsewhere); libraries need telling. */
const insecure = (v: IntegrationValues): boolean => v.issuer.startsWith('http:');
const pathOf = (uri: string | undefined, fallback: string): string => {
  try {
    return uri ? new URL(uri).pathname : fallback;
  } catch {
    return fallback;
  }
};
const REDIRECT_PLACEHOLDER = 'https://app.example/callback';

/** openid-client's client authentication for the client's method (privateKey: the app's own CryptoKey). */
function nodeAuth(v: IntegrationValues): string {
  switch (v.authMethod) {
    case 'none':
      return 'client.None()';
    case 'client_secret_post':
      return `client.ClientSecretPost(process.env.${SECRET_ENV})`;
    case 'private_key_jwt':
      return 'client.PrivateKeyJwt(privateKey)';
    default:
      return `client.ClientSecretBasic(process.env.${SECRET_ENV})`;
  }
}

/** What a snippet's note says about the client's credential, if it has one to supply. */
function credentialNote(v: IntegrationValues): string | undefined {
  if (usesSecret(v)) return SECRET_NOTE;
  if (v.authMethod === 'private_key_jwt')
    return 'This client signs its token requests with its own private key (private_key_jwt): give the library that key; Gatehouse holds only the public half.';
  return undefined;
}

function nodeOpenidClient(v: IntegrationValues): Snippet {
  const auth = nodeAuth(v);
  const options = insecure(v)
    ? ',\n  // Only because this Gatehouse runs on http (development): openid-client refuses http otherwise.\n  { execute: [client.allowInsecureRequests] },'
    : '';
  const code = `import * as client from 'openid-client';

const config = await client.discovery(
  new URL(${quoted(v.issuer)}),
  ${quoted(v.clientId)},
  undefined,
  ${auth}${options}
);
const redirectUri = ${quoted(v.redirectUri ?? REDIRECT_PLACEHOLDER)};
const scope = ${quoted(v.scope)};

/** Step 1: where to send the user. Keep codeVerifier, state and nonce in their session. */
export async function signInUrl() {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url: url.href, codeVerifier, state, nonce };
}

/** Step 2: at redirectUri, with the URL the user came back to and what step 1 kept. */
export async function callback(currentUrl, { codeVerifier, state, nonce }) {
  const tokens = await client.authorizationCodeGrant(config, currentUrl, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  return tokens.claims(); // the ID token's claims: sub, and what the scopes allow
}
`;
  return {
    id: 'openid-client',
    title: 'Node.js: openid-client',
    file: 'signin.mjs (npm install openid-client)',
    code,
    note: credentialNote(v),
  };
}

function browserOidcClientTs(v: IntegrationValues): Snippet {
  const postLogout = v.postLogoutRedirectUri ? `\n  post_logout_redirect_uri: ${quoted(v.postLogoutRedirectUri)},` : '';
  const code = `import { UserManager } from 'oidc-client-ts';

export const userManager = new UserManager({
  authority: ${quoted(v.issuer)},
  client_id: ${quoted(v.clientId)},
  redirect_uri: ${quoted(v.redirectUri ?? REDIRECT_PLACEHOLDER)},${postLogout}
  response_type: 'code',
  scope: ${quoted(v.scope)},
});

// Sign in (authorization code + PKCE):  await userManager.signinRedirect();
// On the page at redirect_uri:            const user = await userManager.signinRedirectCallback();
// user.profile holds the ID token's claims.
`;
  return {
    id: 'oidc-client-ts',
    title: 'Browser: oidc-client-ts',
    file: 'auth.js (npm install oidc-client-ts)',
    code,
    note:
      v.authMethod === 'none'
        ? undefined
        : 'This client keeps a secret, which a browser cannot: for code that runs in the browser, register a single-page app (a public client) instead.',
  };
}

function apacheModAuthOpenidc(v: IntegrationValues): Snippet {
  const redirectPath = pathOf(v.redirectUri, '/protected/redirect_uri');
  // The redirect URI is mod_auth_openidc's own, inside the location it protects.
  const location = redirectPath.replace(/\/[^/]*$/, '') || '/';
  const lines = [
    `OIDCProviderMetadataURL ${apacheQuoted(v.discoveryUrl)}`,
    `OIDCClientID ${apacheQuoted(v.clientId)}`,
    usesSecret(v)
      ? `OIDCClientSecret "\${${SECRET_ENV}}"`
      : v.authMethod === 'private_key_jwt'
        ? 'OIDCPrivateKeyFiles "/etc/apache2/oidc/key.pem"'
        : undefined,
    v.authMethod === 'client_secret_basic' ? undefined : `OIDCProviderTokenEndpointAuth ${v.authMethod}`,
    `OIDCRedirectURI ${apacheQuoted(v.redirectUri ?? `https://app.example${redirectPath}`)}`,
    `OIDCScope ${apacheQuoted(scopesOf(v).join(' '))}`,
    'OIDCPKCEMethod S256',
    'OIDCCryptoPassphrase "${OIDC_CRYPTO_PASSPHRASE}"',
    '',
    `<Location ${apacheQuoted(location)}>`,
    '  AuthType openid-connect',
    '  Require valid-user',
    '</Location>',
  ];
  return {
    id: 'mod_auth_openidc',
    title: 'Apache: mod_auth_openidc',
    file: 'a site or conf-enabled file (apt install libapache2-mod-auth-openidc; a2enmod auth_openidc)',
    code: `${lines.filter((l) => l !== undefined).join('\n')}\n`,
    note: `${usesSecret(v) ? `${SECRET_NOTE} ` : ''}Apache reads \${NAME} from its environment (/etc/apache2/envvars); OIDC_CRYPTO_PASSPHRASE is any long random string that encrypts the session cookie. The redirect URI serves no page: mod_auth_openidc answers it.`,
  };
}

function pythonAuthlib(v: IntegrationValues): Snippet {
  const kwargs = [`"scope": ${quoted(v.scope)}`, '"code_challenge_method": "S256"'];
  if (v.authMethod !== 'client_secret_basic') kwargs.push(`"token_endpoint_auth_method": ${quoted(v.authMethod)}`);
  const code = `import os

from authlib.integrations.flask_client import OAuth
from flask import Flask

app = Flask(__name__)
# Authlib keeps the state, nonce and PKCE code verifier in Flask's signed session cookie.
app.secret_key = os.environ["FLASK_SECRET_KEY"]
oauth = OAuth(app)
oauth.register(
    name="gatehouse",
    server_metadata_url=${quoted(v.discoveryUrl)},
    client_id=${quoted(v.clientId)},
    client_secret=${usesSecret(v) ? `os.environ[${quoted(SECRET_ENV)}]` : 'None'},
    client_kwargs={${kwargs.join(', ')}},
)


@app.route("/login")
def login():
    return oauth.gatehouse.authorize_redirect(${quoted(v.redirectUri ?? REDIRECT_PLACEHOLDER)})


@app.route(${quoted(pathOf(v.redirectUri, '/callback'))})
def callback():
    token = oauth.gatehouse.authorize_access_token()
    return token["userinfo"]  # the ID token's claims
`;
  return {
    id: 'authlib',
    title: 'Python: Authlib (Flask)',
    file: 'app.py (pip install Authlib Flask requests; flask --app app run)',
    code,
    note: [credentialNote(v), 'FLASK_SECRET_KEY is any long random string: it signs the session cookie.']
      .filter(Boolean)
      .join(' '),
  };
}

function springSecurity(v: IntegrationValues): Snippet {
  const method = v.authMethod;
  const code = `spring:
  security:
    oauth2:
      client:
        registration:
          gatehouse:
            client-id: ${quoted(v.clientId)}${usesSecret(v) ? `\n            client-secret: "\${${SECRET_ENV}}"` : ''}
            client-authentication-method: ${method}
            authorization-grant-type: authorization_code
            redirect-uri: ${quoted(v.redirectUri ?? '{baseUrl}/login/oauth2/code/{registrationId}')}
            scope: [${scopesOf(v).map(quoted).join(', ')}]
        provider:
          gatehouse:
            issuer-uri: ${quoted(v.issuer)}
`;
  return {
    id: 'spring',
    title: 'Java: Spring Security',
    file: 'application.yml (spring-boot-starter-oauth2-client; http.oauth2Login())',
    code,
    note: credentialNote(v),
  };
}

function aspNetCore(v: IntegrationValues): Snippet {
  const secret = usesSecret(v) ? `\n        options.ClientSecret = builder.Configuration[${quoted(SECRET_ENV)}];` : '';
  const http = insecure(v)
    ? '\n        options.RequireHttpsMetadata = false; // only because this Gatehouse runs on http (development)'
    : '';
  const code = `using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

builder.Services
    .AddAuthentication(options =>
    {
        options.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
        options.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
    })
    .AddCookie()
    .AddOpenIdConnect(options =>
    {
        options.Authority = ${quoted(v.issuer)};
        options.ClientId = ${quoted(v.clientId)};${secret}${http}
        options.ResponseType = OpenIdConnectResponseType.Code;
        options.UsePkce = true;
        options.CallbackPath = ${quoted(pathOf(v.redirectUri, '/signin-oidc'))};
        options.Scope.Clear();
${scopesOf(v)
  .map((s) => `        options.Scope.Add(${quoted(s)});`)
  .join('\n')}
        options.MapInboundClaims = false;
    });
`;
  return {
    id: 'aspnetcore',
    title: 'ASP.NET Core: AddOpenIdConnect',
    file: 'Program.cs (Microsoft.AspNetCore.Authentication.OpenIdConnect)',
    code,
    note: credentialNote(v),
  };
}

function goOidc(v: IntegrationValues): Snippet {
  const code = `import (
	"context"
	"os"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

ctx := context.Background()
provider, err := oidc.NewProvider(ctx, ${quoted(v.issuer)})
if err != nil {
	// Gatehouse's discovery document could not be read
}
config := oauth2.Config{
	ClientID:     ${quoted(v.clientId)},
	ClientSecret: ${usesSecret(v) ? `os.Getenv(${quoted(SECRET_ENV)})` : '""'},
	Endpoint:     provider.Endpoint(),
	RedirectURL:  ${quoted(v.redirectUri ?? REDIRECT_PLACEHOLDER)},
	Scopes:       []string{${scopesOf(v).map(quoted).join(', ')}},
}
verifier := provider.Verifier(&oidc.Config{ClientID: config.ClientID})

// Sign in: pkce := oauth2.GenerateVerifier(), keep it and a random state in the session, then
//   http.Redirect(w, r, config.AuthCodeURL(state, oauth2.S256ChallengeOption(pkce)), http.StatusFound)
// At RedirectURL (after checking state):
//   token, err := config.Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(pkce))
//   idToken, err := verifier.Verify(ctx, token.Extra("id_token").(string))
//   var claims map[string]any
//   err = idToken.Claims(&claims)
`;
  return {
    id: 'go-oidc',
    title: 'Go: coreos/go-oidc',
    file: 'main.go (go get github.com/coreos/go-oidc/v3/oidc golang.org/x/oauth2)',
    code,
    note: credentialNote(v),
  };
}

/** The snippets for a client that signs people in (authorization code), in the page's order. */
export function signInSnippets(values: IntegrationValues): Snippet[] {
  return [
    nodeOpenidClient(values),
    browserOidcClientTs(values),
    apacheModAuthOpenidc(values),
    pythonAuthlib(values),
    springSecurity(values),
    aspNetCore(values),
    goOidc(values),
  ];
}

/** A Node snippet for a client that signs no one in through a browser: discovery, then `body`. */
function nodeSnippet(v: IntegrationValues, file: string, body: string): Snippet[] {
  const options = insecure(v) ? ', { execute: [client.allowInsecureRequests] }' : '';
  const discovery = `const config = await client.discovery(new URL(${quoted(v.issuer)}), ${quoted(v.clientId)}, undefined, ${nodeAuth(v)}${options});`;
  return [
    {
      id: 'openid-client',
      title: 'Node.js: openid-client',
      file: `${file} (npm install openid-client)`,
      code: `import * as client from 'openid-client';\n\n${discovery}\n${body}`,
      note: credentialNote(v),
    },
  ];
}

/** A machine-to-machine client: a token with its own credentials (client_credentials). */
export const machineSnippets = (values: IntegrationValues): Snippet[] =>
  nodeSnippet(
    values,
    'token.mjs',
    `// resource: the API (resource indicator, RFC 8707) the token is for.
const tokens = await client.clientCredentialsGrant(config, { resource: 'https://api.example' });
// tokens.access_token goes in the API call's Authorization: Bearer header.
`,
  );

/** A device client: the device authorization grant (RFC 8628). */
export const deviceSnippets = (values: IntegrationValues): Snippet[] =>
  nodeSnippet(
    values,
    'device-sign-in.mjs',
    `const started = await client.initiateDeviceAuthorization(config, { scope: ${quoted(values.scope)} });
// Shown on the device's screen (here the terminal): where to go and what to enter.
process.stdout.write(\`Open \${started.verification_uri} and enter \${started.user_code}\\n\`);
const tokens = await client.pollDeviceAuthorizationGrant(config, started);
const claims = tokens.claims(); // the ID token's claims: who signed in
`,
  );
