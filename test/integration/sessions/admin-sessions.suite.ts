import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { expectStatus, useAdminApi } from '../../helpers/admin-api.js';
import { buildRp, textOf, type TestRp } from '../../helpers/sessions.js';
import { signInAdmin, postForm } from '../admin-console/support.js';
import { FIREFOX_LINUX, SAFARI_IPHONE, browser, signInRemembering } from './support.js';

interface SessionBody {
  id: string;
  ip: string | null;
  user_agent: string | null;
  device: { browser: string | null; os: string | null; mobile: boolean };
  last_seen_at: string | null;
  persistent: boolean;
}

/** What admins see of a user's sessions: the API's session view and the console's user page. */
describe.each(HTTP_BACKENDS)('sessions for admins (%s)', (backend) => {
  let rp: TestRp;
  const { server, call } = useAdminApi(backend);
  beforeAll(async () => {
    rp = await buildRp(server, { firstParty: true });
  });

  it('the API lists device, IP, last activity and persistence of each session', async () => {
    const user = await server.buildUser();
    const before = Date.now() - 1000;
    await signInRemembering(browser(server, FIREFOX_LINUX), rp, user, true);
    await signInRemembering(browser(server, SAFARI_IPHONE), rp, user, false);
    const { items } = expectStatus(await call<{ items: SessionBody[] }>('GET', `/users/${user.id}/sessions`), 200);
    expect(items).toHaveLength(2);
    const [phone, laptop] = items;
    expect(laptop).toMatchObject({
      ip: '127.0.0.1',
      user_agent: FIREFOX_LINUX,
      device: { browser: 'Firefox 128', os: 'Linux', mobile: false },
      persistent: true,
    });
    expect(phone).toMatchObject({ device: { browser: 'Safari 17', mobile: true }, persistent: false });
    for (const s of items) expect(new Date(s.last_seen_at ?? 0).getTime()).toBeGreaterThanOrEqual(before);
  });

  it('the console shows them, and ending one there ends it', async () => {
    const user = await server.buildUser();
    await signInRemembering(browser(server, FIREFOX_LINUX), rp, user, false);
    const { ua, page } = await signInAdmin(server);
    const userPage = await ua.get(`/admin/users/${user.id}`);
    expect(userPage.status).toBe(200);
    const detail = /<li data-session-detail="([^"]+)">([\s\S]*?)<\/li>/.exec(userPage.html);
    expect(detail).not.toBeNull();
    expect(textOf(detail![2] ?? '')).toMatch(/Firefox 128 on Linux, 127\.0\.0\.1, last active/);

    expect(
      (await postForm(ua, page, `/admin/users/${user.id}/sessions/end`, { session: detail![1] ?? '' })).status,
    ).toBe(303);
    expect(await server.gatehouse.storage.storage.sessions.listSessions(user.id)).toEqual([]);
    expect(
      (await postForm(ua, page, `/admin/users/${user.id}/sessions/end`, { session: detail![1] ?? '' })).status,
    ).toBe(404);
  });
});
