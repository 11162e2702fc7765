import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * GitHub's and Discord's OAuth 2 API shapes on 127.0.0.1, for the github and discord presets:
 * GitHub's /login/oauth/authorize, /login/oauth/access_token, /user, /user/emails and
 * Discord's /oauth2/authorize, /api/oauth2/token, /api/users/@me. The person signed in is
 * what the test sets; `deny` answers access_denied, `slow` never answers (until close).
 */
export interface SocialUpstream {
  url: string;
  github: { user: Record<string, unknown>; emails: Array<{ email: string; primary: boolean; verified: boolean }> };
  discord: { user: Record<string, unknown> };
  deny: boolean;
  slow: boolean;
  close(): Promise<void>;
}

interface Grant {
  clientId: string;
  redirectUri: string;
  challenge: string | null;
  api: 'github' | 'discord';
}

export async function startSocialUpstream(client: { clientId: string; clientSecret: string }): Promise<SocialUpstream> {
  const codes = new Map<string, Grant>();
  const tokens = new Map<string, 'github' | 'discord'>();
  const held: ServerResponse[] = [];
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<URLSearchParams>((resolve) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => resolve(new URLSearchParams(body)));
    });

  function authorize(url: URL, res: ServerResponse, api: 'github' | 'discord') {
    const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
    const state = url.searchParams.get('state');
    if (url.searchParams.get('client_id') !== client.clientId) return json(res, 400, { error: 'unknown client' });
    if (upstream.deny) redirect.searchParams.set('error', 'access_denied');
    else {
      const code = randomBytes(16).toString('hex');
      codes.set(code, {
        clientId: client.clientId,
        redirectUri: `${redirect.origin}${redirect.pathname}`,
        challenge: url.searchParams.get('code_challenge'),
        api,
      });
      redirect.searchParams.set('code', code);
    }
    if (state) redirect.searchParams.set('state', state);
    res.writeHead(302, { location: redirect.href }).end();
  }

  async function token(req: IncomingMessage, res: ServerResponse, api: 'github' | 'discord') {
    const body = await readBody(req);
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [id, secret] = basic
      ? Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent)
      : [body.get('client_id'), body.get('client_secret')];
    const grant = codes.get(body.get('code') ?? '');
    codes.delete(body.get('code') ?? '');
    const verifier = body.get('code_verifier') ?? '';
    const pkceOk = !grant?.challenge || createHash('sha256').update(verifier).digest('base64url') === grant.challenge;
    if (id !== client.clientId || secret !== client.clientSecret) return json(res, 401, { error: 'invalid_client' });
    if (!grant || grant.api !== api || grant.redirectUri !== body.get('redirect_uri') || !pkceOk)
      return json(res, 400, { error: 'invalid_grant' });
    const accessToken = randomBytes(16).toString('hex');
    tokens.set(accessToken, api);
    json(res, 200, { access_token: accessToken, token_type: api === 'github' ? 'bearer' : 'Bearer', scope: '' });
  }

  function bearer(req: IncomingMessage, api: 'github' | 'discord'): boolean {
    const value = /^(?:Bearer|token) (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    return value !== undefined && tokens.get(value) === api;
  }

  const server = createServer((req, res) => {
    if (upstream.slow) {
      held.push(res);
      return;
    }
    const url = new URL(req.url ?? '/', upstream.url);
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /login/oauth/authorize':
        return authorize(url, res, 'github');
      case 'POST /login/oauth/access_token':
        return void token(req, res, 'github');
      case 'GET /user':
        return bearer(req, 'github')
          ? json(res, 200, upstream.github.user)
          : json(res, 401, { message: 'Bad credentials' });
      case 'GET /user/emails':
        return bearer(req, 'github')
          ? json(res, 200, upstream.github.emails)
          : json(res, 401, { message: 'Bad credentials' });
      case 'GET /oauth2/authorize':
        return authorize(url, res, 'discord');
      case 'POST /api/oauth2/token':
        return void token(req, res, 'discord');
      case 'GET /api/users/@me':
        return bearer(req, 'discord')
          ? json(res, 200, upstream.discord.user)
          : json(res, 401, { message: '401: Unauthorized' });
      default:
        return json(res, 404, { message: 'Not Found' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const upstream: SocialUpstream = {
    url: `http://127.0.0.1:${port}`,
    github: { user: { id: 1, login: 'octo', name: 'Octo Cat', avatar_url: null }, emails: [] },
    discord: {
      user: { id: '80351110224678912', username: 'nelly', global_name: 'Nelly', email: null, verified: false },
    },
    deny: false,
    slow: false,
    async close() {
      for (const res of held.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return upstream;
}
