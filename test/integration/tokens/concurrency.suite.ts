import { STORE_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { oidc } from '../../helpers/rp.js';
import {
  OFFLINE,
  authorize,
  introspect,
  oauthFailure,
  postToken,
  refreshTokenOf,
  signIn,
  tally,
  type RawResponse,
} from '../../helpers/tokens.js';

const PARALLEL = 8;

/**
 * Races on single-use credentials: oidc-provider checks `consumed` and then consumes,
 * which alone is not atomic; the adapter's compare-and-set decides the winner and treats
 * every loser as a replay (RFC 9700 §4.14.2).
 */
describe.each(STORE_BACKENDS)('concurrent redemption (%s)', (backend) => {
  const server = useTestServer(backend);

  it(`lets exactly one of ${PARALLEL} parallel redemptions of one code succeed`, async () => {
    const { rp, client, code, request } = await authorize(server, { params: OFFLINE });
    const form = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      code_verifier: request.codeVerifier,
    };

    const responses = await Promise.all(Array.from({ length: PARALLEL }, () => postToken(rp, client, form)));

    expect(tally(responses)).toEqual({
      statuses: { 200: 1, 400: PARALLEL - 1 },
      errors: { invalid_grant: PARALLEL - 1 },
    });
    const winner = responses.find((r) => r.status === 200) as RawResponse;
    expect(winner.body).toMatchObject({
      token_type: 'Bearer',
      access_token: expect.any(String),
      id_token: expect.any(String),
    });
    // The losers were replays: the grant is gone, so the winner's tokens are dead too.
    const info = await introspect(rp, String(winner.body.access_token));
    expect(info).toEqual({ active: false });
  });

  it(`lets exactly one of ${PARALLEL} parallel refreshes of one refresh token succeed`, async () => {
    const { rp, client, tokens } = await signIn(server, { params: OFFLINE });
    const form = { grant_type: 'refresh_token', refresh_token: refreshTokenOf(tokens) };

    const responses = await Promise.all(Array.from({ length: PARALLEL }, () => postToken(rp, client, form)));

    expect(tally(responses)).toEqual({
      statuses: { 200: 1, 400: PARALLEL - 1 },
      errors: { invalid_grant: PARALLEL - 1 },
    });
    const winner = responses.find((r) => r.status === 200) as RawResponse;
    expect(winner.body.refresh_token).toEqual(expect.any(String));
    expect(winner.body.refresh_token).not.toBe(tokens.refresh_token);
    // Reuse revokes the grant, whichever request got there first.
    expect(await introspect(rp, String(winner.body.refresh_token))).toEqual({ active: false });
    expect(await oauthFailure(oidc.refreshTokenGrant(rp, String(winner.body.refresh_token)))).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
  });

  it('serves parallel redemptions of different codes independently', async () => {
    const flows = await Promise.all(Array.from({ length: 4 }, () => authorize(server)));
    const responses = await Promise.all(
      flows.map(({ rp, client, code, request }) =>
        postToken(rp, client, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: client.redirectUri,
          code_verifier: request.codeVerifier,
        }),
      ),
    );
    expect(tally(responses)).toEqual({ statuses: { 200: 4 }, errors: {} });
    const infos = await Promise.all(responses.map((r, i) => introspect(flows[i]!.rp, String(r.body.access_token))));
    expect(infos.map((i) => [i.active, i.sub])).toEqual(flows.map((f) => [true, f.user.id]));
  });
});
