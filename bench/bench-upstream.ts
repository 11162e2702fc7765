/**
 * The upstream identity provider of the `federated_sign_in` operation: oidc-provider 9 with its
 * in-memory adapter and one client (Gatehouse's connection), signing one person in without a
 * page (the interaction finishes at once) and skipping consent. It runs in its own process, so
 * its CPU is never counted as Gatehouse's (bench/cpu.ts reads the Gatehouse pid only).
 *
 * Started by bench/run.ts as `node --import tsx bench/bench-upstream.ts` with
 * BENCH_UPSTREAM_CONFIG (JSON, see BenchUpstreamConfig) in its environment.
 */
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

export interface BenchUpstreamConfig {
  issuer: string;
  port: number;
  client: { clientId: string; clientSecret: string; redirectUri: string };
  /** The one person it signs in. */
  person: { subject: string; email: string; name: string };
}

const config = JSON.parse(process.env.BENCH_UPSTREAM_CONFIG ?? 'null') as BenchUpstreamConfig | null;
if (!config) {
  process.stderr.write('bench-upstream: BENCH_UPSTREAM_CONFIG is not set\n');
  process.exit(2);
}
const { person } = config;

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const provider = new Provider(config.issuer, {
  clients: [
    {
      client_id: config.client.clientId,
      client_secret: config.client.clientSecret,
      redirect_uris: [config.client.redirectUri],
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'bench-upstream', use: 'sig', alg: 'ES256' }] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  findAccount: (_ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub, email: person.email, email_verified: true, name: person.name }),
  }),
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async loadExistingGrant(ctx: KoaContextWithOIDC) {
    const { client, session, params } = ctx.oidc;
    if (!client || !session?.accountId) return undefined;
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope(String(params?.scope ?? 'openid'));
    await grant.save();
    return grant;
  },
});

const callback = provider.callback();
const INTERACTION = /^\/interaction\/[^/?]+$/;
createServer((req, res) => {
  const path = new URL(req.url ?? '/', config.issuer).pathname;
  if (req.method === 'GET' && INTERACTION.test(path)) {
    provider
      .interactionFinished(req, res, { login: { accountId: person.subject } }, { mergeWithLastSubmission: false })
      .catch((error: unknown) => res.writeHead(500).end(String(error)));
    return;
  }
  void callback(req, res);
}).listen(config.port, '127.0.0.1', () => process.stdout.write('ready\n'));
