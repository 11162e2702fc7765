import { randomBytes } from 'node:crypto';
import { useServices } from '../helpers/services.js';

/**
 * accounts/account-service.ts changePassword on real storage and the real lockout: the current
 * password is checked behind the sign-in lockout (issue 14, finding 4), and the new one must
 * pass the password policy (NIST SP 800-63B §5.1.1.2).
 */
describe('password change (accounts service)', () => {
  const rig = useServices();
  // Each test its own address: the lockout counts per account and IP.
  const origin = () => ({ ip: `203.0.113.${randomBytes(1)[0]}` });

  it('changes the password: the new one signs in, the old one no longer does, and the change is audited', async () => {
    const user = await rig.buildUser();
    const next = `new-${randomBytes(9).toString('base64url')}`;
    await expect(rig.services.accounts.changePassword(user.id, user.password, next, origin())).resolves.toEqual({
      ok: true,
    });
    await expect(rig.services.accounts.signInWithPassword(user.email, next, origin())).resolves.toMatchObject({
      ok: true,
    });
    await expect(rig.services.accounts.signInWithPassword(user.email, user.password, origin())).resolves.toEqual({
      ok: false,
      reason: 'invalid-credentials',
    });
    const events = await rig.storage.audit.query({ subjectId: user.id, action: 'password.changed', limit: 5 });
    expect(events).toHaveLength(1);
  });

  it('counts a wrong current password against the lockout: after freeFailures the right one waits too', async () => {
    const user = await rig.buildUser();
    const from = origin();
    for (let i = 0; i < 5; i += 1) {
      await expect(
        rig.services.accounts.changePassword(user.id, 'not-the-password', 'a-good-new-passphrase', from),
      ).resolves.toEqual({ ok: false, reason: 'wrong-current-password' });
    }
    const locked = await rig.services.accounts.changePassword(user.id, user.password, 'a-good-new-passphrase', from);
    expect(locked).toMatchObject({ ok: false, reason: 'throttled' });
    const failures = await rig.storage.audit.query({ subjectId: user.id, action: 'password.change_failed', limit: 10 });
    expect(failures.map((e) => e.details)).toEqual(
      expect.arrayContaining([{ reason: 'wrong_password' }, { reason: 'locked_out' }]),
    );
    // Nothing changed: the old password still signs in from another address.
    await expect(rig.services.accounts.signInWithPassword(user.email, user.password, origin())).resolves.toMatchObject({
      ok: true,
    });
  });

  it('refuses a new password the policy refuses, naming the rule, and keeps the old hash', async () => {
    const user = await rig.buildUser();
    const before = await rig.storage.users.passwordHash(user.id);
    await expect(
      rig.services.accounts.changePassword(user.id, user.password, 'password1234', origin()),
    ).resolves.toMatchObject({ ok: false, reason: 'weak-password', problem: { rule: 'breached' } });
    await expect(
      rig.services.accounts.changePassword(user.id, user.password, 'short', origin()),
    ).resolves.toMatchObject({ ok: false, reason: 'weak-password', problem: { rule: 'too-short' } });
    expect(await rig.storage.users.passwordHash(user.id)).toBe(before);
    expect(await rig.storage.audit.query({ subjectId: user.id, action: 'password.changed', limit: 5 })).toHaveLength(0);
  });
});
