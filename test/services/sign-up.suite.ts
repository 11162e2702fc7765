import { PolicyRefusedError } from '../../src/errors/domain-errors.js';
import { uniqueEmail } from '../helpers/factories.js';
import { useServices } from '../helpers/services.js';

/**
 * accounts/sign-up.ts register on real storage: the domain allow-list (signUp.allowedEmailDomains)
 * and a registration for a taken address, which changes nothing but the owner's security event
 * and returns an outcome the caller answers like a new account (ASVS 5 6.3.8).
 */
describe('sign-up rules (sign-up service)', () => {
  const rig = useServices({ signUp: { enabled: true, allowedEmailDomains: ['example.test'] } });
  const input = (email: string) => ({ email, name: 'New Person', password: 'a-long-enough-passphrase' });

  it('registers an address at an allowed domain: an unverified, self-registered account with a verification link', async () => {
    const email = uniqueEmail('signup');
    const outcome = await rig.services.signUp.register(input(email));
    expect(outcome).toMatchObject({
      kind: 'created',
      user: { emailVerified: false },
      verificationToken: expect.any(String),
    });
    const stored = await rig.storage.users.findByEmail(email);
    expect(stored?.selfRegisteredAt).not.toBeNull();
    expect(stored && rig.services.signUp.mustVerifyBeforeSignIn(stored)).toBe(true);
    await expect(
      rig.services.emailAddress.isUsableVerification(outcome.kind === 'created' ? outcome.verificationToken : ''),
    ).resolves.toBe(true);
  });

  it('refuses an address at another domain with a field error, creating nothing', async () => {
    const email = 'someone@elsewhere.test';
    const refused = rig.services.signUp.register(input(email));
    await expect(refused).rejects.toBeInstanceOf(PolicyRefusedError);
    await expect(refused).rejects.toMatchObject({ field: 'email', rule: 'email_domain' });
    expect(await rig.storage.users.findByEmail(email)).toBeNull();
  });

  it('answers a taken address with its owner, not a second account, and records the attempt for the owner', async () => {
    const owner = await rig.buildUser({ email: uniqueEmail('owner') });
    const outcome = await rig.services.signUp.register(input(owner.email.toUpperCase()));
    expect(outcome).toMatchObject({ kind: 'address-taken', owner: { id: owner.id } });
    const account = await rig.storage.users.findByEmail(owner.email);
    expect(account?.id).toBe(owner.id);
    expect(account?.selfRegisteredAt).toBeNull();
    expect(
      await rig.storage.audit.query({ subjectId: owner.id, action: 'signup.address_taken', limit: 5 }),
    ).toHaveLength(1);
  });

  it('checks the password policy before looking the address up: a taken address with a weak password fails like a free one', async () => {
    const owner = await rig.buildUser({ email: uniqueEmail('owner') });
    const weak = { ...input(owner.email), password: 'password1234' };
    await expect(rig.services.signUp.register(weak)).rejects.toMatchObject({ field: 'password' });
    await expect(rig.services.signUp.register({ ...weak, email: uniqueEmail('free') })).rejects.toMatchObject({
      field: 'password',
    });
    expect(
      await rig.storage.audit.query({ subjectId: owner.id, action: 'signup.address_taken', limit: 5 }),
    ).toHaveLength(0);
  });
});
