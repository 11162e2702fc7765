import { randomBytes } from 'node:crypto';
import { federationRedirectUri } from '../../../src/federation/federation.service.js';
import { STORE_BACKENDS, type Backend } from '../../helpers/backends.js';
import { TEST_ACTOR, uniqueEmail } from '../../helpers/factories.js';
import { useTestServer } from '../../helpers/server.js';
import { errorCode } from '../../helpers/sessions.js';
import { startUpstreamOp, type UpstreamOp } from '../../helpers/upstream-op.js';
import {
  callbackWith,
  pressContinueWith,
  redeem,
  startFlow,
  throughUpstream,
} from '../../helpers/federated-sign-in.js';

/**
 * The round trip's state lives in the key-value store, which is Redis or the embedded store's
 * own: one federated sign-in, and its callback replayed, on the embedded store (the other
 * suites run on PostgreSQL + Redis). Under TEST_BACKENDS without it, on what was chosen.
 */
const BACKENDS: Backend[] = STORE_BACKENDS.includes('embedded') ? ['embedded'] : STORE_BACKENDS;
const SECRET = `upstream-secret-${randomBytes(8).toString('hex')}`;

describe.each(BACKENDS)('an upstream round trip on one store (%s)', (backend) => {
  const server = useTestServer(backend);
  let op: UpstreamOp;

  beforeAll(async () => {
    op = await startUpstreamOp({
      clients: [
        { client_id: 'up', client_secret: SECRET, redirect_uris: [federationRedirectUri(server.issuer, 'up')] },
      ],
    });
    await server.gatehouse.admin.connections.create(
      {
        id: 'up',
        displayName: 'Upstream',
        kind: 'oidc',
        issuer: op.issuer,
        clientId: 'up',
        clientSecret: SECRET,
        createAccounts: true,
        trustEmailVerification: true,
      },
      TEST_ACTOR,
    );
  });
  afterAll(async () => {
    await op?.close();
  });

  it('signs in through the upstream once; the same callback again is refused', async () => {
    op.setAccount('embedded-subject', { email: uniqueEmail('fed-embedded'), email_verified: true });
    op.login = { accountId: 'embedded-subject' };
    const flow = await startFlow(server);
    const toUpstream = await pressContinueWith(flow.ua, flow.page, 'up');
    const { page, params } = await throughUpstream(server, flow, toUpstream.location ?? '', 'up');
    expect((await redeem(flow, page)).claims()?.amr).toEqual(['fed']);
    const replay = await callbackWith(flow.ua, federationRedirectUri(server.issuer, 'up'), params, false);
    expect({ status: replay.status, code: errorCode(replay.html) }).toEqual({ status: 400, code: 'state_mismatch' });
  });
});
