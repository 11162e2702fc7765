import { randomUUID } from 'node:crypto';
import type { EndedSession } from '../../src/storage/sessions.repository.js';
import { useServices } from '../helpers/services.js';

/**
 * accounts/user-sessions.ts on real storage: a user ends one of their sessions or all others
 * (ASVS 5.0 V7.4.3, V7.5.2), each end audited in its transaction and announced after it commits
 * (OIDC Back-Channel Logout 1.0). The Session rows are written as oidc-provider's adapter writes them.
 */
describe("a user's sessions (user-sessions service)", () => {
  const rig = useServices();
  const announced: EndedSession[][] = [];
  beforeAll(() => {
    rig.services.onSessionsEnded((sessions) => announced.push(sessions));
  });
  beforeEach(() => {
    announced.length = 0;
  });

  /** A live Session row of the account with a client signed in through it. */
  async function session(accountId: string): Promise<string> {
    const uid = randomUUID();
    await rig.storage.oidc.upsert({
      model: 'Session',
      id: randomUUID(),
      expiresInSeconds: 3600,
      payload: {
        uid,
        accountId,
        loginTs: Math.floor(Date.now() / 1000),
        authorizations: { 'some-client': { sid: randomUUID() } },
      },
    });
    return uid;
  }
  const uids = async (userId: string) => (await rig.services.userSessions.list(userId)).map((s) => s.uid).sort();

  it('ends one session, audits it and tells its clients; the others stay', async () => {
    const user = await rig.buildUser();
    const [a, b] = [await session(user.id), await session(user.id)];
    await expect(rig.services.userSessions.endOne(user.id, a, {})).resolves.toBe(true);
    expect(await uids(user.id)).toEqual([b]);
    expect(announced).toEqual([
      [
        expect.objectContaining({
          uid: a,
          accountId: user.id,
          clients: [expect.objectContaining({ clientId: 'some-client' })],
        }),
      ],
    ]);
    const [event] = await rig.storage.audit.query({ subjectId: user.id, action: 'session.ended', limit: 5 });
    expect(event?.details).toEqual({ reason: 'ended-by-user', sessions: [a] });
  });

  it("refuses to end another account's session or an unknown one, ending and recording nothing", async () => {
    const user = await rig.buildUser();
    const other = await rig.buildUser();
    const theirs = await session(other.id);
    await expect(rig.services.userSessions.endOne(user.id, theirs, {})).resolves.toBe(false);
    await expect(rig.services.userSessions.endOne(user.id, 'no-such-session\u0000', {})).resolves.toBe(false);
    expect(await uids(other.id)).toEqual([theirs]);
    expect(announced.flat()).toEqual([]);
    expect(await rig.storage.audit.query({ subjectId: user.id, action: 'session.ended', limit: 5 })).toHaveLength(0);
  });

  it("ends every other session of the user, keeping the asking one and other accounts' sessions", async () => {
    const user = await rig.buildUser();
    const other = await rig.buildUser();
    const keep = await session(user.id);
    await session(user.id);
    await session(user.id);
    const theirs = await session(other.id);
    await expect(rig.services.userSessions.endOthers(user.id, keep, {}, 'password-changed')).resolves.toBe(2);
    expect(await uids(user.id)).toEqual([keep]);
    expect(await uids(other.id)).toEqual([theirs]);
    expect(announced.flat()).toHaveLength(2);
  });
});
