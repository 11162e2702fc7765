import { createServer, type Server } from 'node:http';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyResult } from 'jose';

/**
 * A relying party's back-channel logout endpoint (OIDC Back-Channel Logout 1.0 §2.5): a real
 * HTTP server that collects the logout tokens posted to it. `failFirst` answers that many
 * deliveries with 503 first, as an RP that is briefly down would.
 */
export interface LogoutReceiver {
  uri: string;
  /** Every logout token received, in order (failed deliveries included). */
  received: string[];
  /** The next successfully received token (waits up to `timeoutMs`). */
  next(timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startLogoutReceiver(options: { failFirst?: number } = {}): Promise<LogoutReceiver> {
  const received: string[] = [];
  const accepted: string[] = [];
  const waiters: Array<(token: string) => void> = [];
  let failures = options.failFirst ?? 0;

  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      received.push(token);
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-www-form-urlencoded' || !token) {
        res.writeHead(400).end();
        return;
      }
      if (failures > 0) {
        failures -= 1;
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
      const waiter = waiters.shift();
      if (waiter) waiter(token);
      else accepted.push(token);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    uri: `http://127.0.0.1:${port}/backchannel-logout`,
    received,
    next(timeoutMs = 15_000) {
      const ready = accepted.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no logout token arrived')), timeoutMs);
        waiters.push((token) => {
          clearTimeout(timer);
          resolve(token);
        });
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * Verifies a logout token as an RP must (§2.6): signature against the OP's JWKS, iss, aud,
 * iat/exp, the logout event, sub or sid, and no nonce. Returns the claims.
 */
export async function verifyLogoutToken(
  token: string,
  issuer: string,
  clientId: string,
): Promise<JWTVerifyResult<JWTPayload & { sid?: string; events?: Record<string, unknown>; nonce?: unknown }>> {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const verified = await jwtVerify<JWTPayload & { sid?: string; events?: Record<string, unknown>; nonce?: unknown }>(
    token,
    jwks,
    { issuer, audience: clientId, maxTokenAge: '5m' },
  );
  const { payload } = verified;
  if (!payload.events || typeof payload.events[LOGOUT_EVENT] !== 'object')
    throw new Error('not a logout token: no back-channel logout event');
  if (payload.nonce !== undefined) throw new Error('a logout token must not carry a nonce');
  if (!payload.sub && !payload.sid) throw new Error('a logout token names sub, sid or both');
  if (typeof payload.jti !== 'string' || typeof payload.iat !== 'number') throw new Error('jti and iat are required');
  return verified;
}

export const BACKCHANNEL_LOGOUT_EVENT = LOGOUT_EVENT;
