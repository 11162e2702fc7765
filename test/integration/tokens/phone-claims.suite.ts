import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { UserAgent } from '../../helpers/user-agent.js';
import { oidc } from '../../helpers/rp.js';
import { buildRp, signIn } from '../../helpers/sessions.js';

/** OIDC Core §5.4: phone_number and phone_number_verified under the phone scope (issue 18). */
describe.each(HTTP_BACKENDS)('the phone scope (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  async function userWithPhone(verified: boolean) {
    const user = await server.buildUser();
    await server.gatehouse.storage.storage.phones.set(user.id, '+4915112345678', verified);
    return user;
  }

  it('releases a confirmed number under the phone scope, at userinfo', async () => {
    const user = await userWithPhone(true);
    const rp = await buildRp(server, { scope: 'openid email phone' });
    const { tokens } = await signIn(new UserAgent(server.issuer), rp, user, { scope: 'openid phone' });
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, user.id);
    expect(info).toMatchObject({ phone_number: '+4915112345678', phone_number_verified: true });
  });

  it('releases nothing without the scope', async () => {
    const user = await userWithPhone(true);
    const rp = await buildRp(server, { scope: 'openid email phone' });
    const { tokens } = await signIn(new UserAgent(server.issuer), rp, user, { scope: 'openid email' });
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, user.id);
    expect(info).not.toHaveProperty('phone_number');
    expect(info).not.toHaveProperty('phone_number_verified');
  });

  it('releases nothing for a number not confirmed', async () => {
    const user = await userWithPhone(false);
    const rp = await buildRp(server, { scope: 'openid email phone' });
    const { tokens } = await signIn(new UserAgent(server.issuer), rp, user, { scope: 'openid phone' });
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, user.id);
    expect(info).not.toHaveProperty('phone_number');
    expect(info).not.toHaveProperty('phone_number_verified');
  });

  it('is published in discovery with its claims', async () => {
    const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as {
      scopes_supported: string[];
      claims_supported: string[];
    };
    expect(discovery.scopes_supported).toContain('phone');
    expect(discovery.claims_supported).toEqual(expect.arrayContaining(['phone_number', 'phone_number_verified']));
  });
});
