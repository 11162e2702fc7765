import { InvalidInputError } from '../../src/errors/domain-errors.js';
import { uniqueEmail } from '../helpers/factories.js';
import { useServices } from '../helpers/services.js';

/**
 * accounts/email-address.ts on real storage: an address changes only when the link sent to it
 * is used, and an address another account has answers like a free one (issue 14, finding 6).
 */
describe('email-address change (email-address service)', () => {
  const rig = useServices({ signUp: { allowedEmailDomains: ['example.test'] } });

  it('issues a link for a free address and moves the account, verified, when the link is used once', async () => {
    const user = await rig.buildUser();
    const next = uniqueEmail('moved');
    const request = await rig.services.emailAddress.requestChange(user.id, next);
    if (!request.ok || request.kind !== 'link') throw new Error(`expected a link, got ${JSON.stringify(request)}`);
    expect((await rig.storage.users.findById(user.id))?.email).toBe(user.email);
    await expect(rig.services.emailAddress.confirmChange(request.token)).resolves.toMatchObject({
      ok: true,
      previousEmail: user.email,
    });
    expect(await rig.storage.users.findById(user.id)).toMatchObject({ email: next, emailVerified: true });
    await expect(rig.services.emailAddress.confirmChange(request.token)).resolves.toEqual({
      ok: false,
      reason: 'invalid-link',
    });
  });

  it('treats a taken address like a free one for the requester: same event, no link, no change to either account', async () => {
    const user = await rig.buildUser();
    const holder = await rig.buildUser();
    const request = await rig.services.emailAddress.requestChange(user.id, holder.email.toUpperCase());
    expect(request).toMatchObject({ ok: true, kind: 'taken', owner: { id: holder.id } });
    expect(request).not.toHaveProperty('token');
    const [event] = await rig.storage.audit.query({ subjectId: user.id, action: 'email.change_requested', limit: 5 });
    expect(event?.details).toEqual({ outcome: 'address_taken' });
    expect((await rig.storage.users.findById(user.id))?.email).toBe(user.email);
  });

  it("refuses the account's own address, a malformed one and one at a domain not allowed", async () => {
    const user = await rig.buildUser();
    await expect(rig.services.emailAddress.requestChange(user.id, user.email)).resolves.toEqual({
      ok: false,
      reason: 'address-unavailable',
    });
    await expect(rig.services.emailAddress.requestChange(user.id, 'not an address')).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(rig.services.emailAddress.requestChange(user.id, 'someone@elsewhere.test')).rejects.toMatchObject({
      field: 'email',
      rule: 'email_domain',
    });
    expect(
      await rig.storage.audit.query({ subjectId: user.id, action: 'email.change_requested', limit: 5 }),
    ).toHaveLength(0);
  });

  it('refuses a link whose address was taken after the request, spending it', async () => {
    const user = await rig.buildUser();
    const next = uniqueEmail('raced');
    const request = await rig.services.emailAddress.requestChange(user.id, next);
    if (!request.ok || request.kind !== 'link') throw new Error('expected a link');
    await rig.buildUser({ email: next });
    await expect(rig.services.emailAddress.confirmChange(request.token)).resolves.toEqual({
      ok: false,
      reason: 'address-unavailable',
    });
    await expect(rig.services.emailAddress.isUsableChange(request.token)).resolves.toBe(false);
    expect((await rig.storage.users.findById(user.id))?.email).toBe(user.email);
  });
});
