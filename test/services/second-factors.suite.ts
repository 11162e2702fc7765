import { useServices } from '../helpers/services.js';
import { newTotpSecret, totpCode, wrongTotpCode } from '../helpers/totp-codes.js';

/**
 * accounts/totp.ts and accounts/recovery-codes.ts on real storage: a TOTP code is accepted at
 * most once (RFC 6238 §5.2: the verifier must not accept a second attempt of the same OTP),
 * and a recovery code is spent by exactly one use (ASVS 5.0 6.5.1).
 */
describe('second factors (TOTP and recovery-code services)', () => {
  const rig = useServices();

  describe('TOTP', () => {
    it('enrols with a code from the secret, accepts a newer code once and refuses it replayed', async () => {
      const user = await rig.buildUser();
      const secret = newTotpSecret();
      // Enrolled with the previous step's code (the verifier accepts ±1 step), so the current one is newer.
      await expect(rig.services.totp.confirmEnrolment(user.id, secret, await totpCode(secret, -1))).resolves.toBe(true);
      const code = await totpCode(secret);
      await expect(rig.services.totp.check(user.id, code)).resolves.toBe('accepted');
      await expect(rig.services.totp.check(user.id, code)).resolves.toBe('replayed');
    });

    it('spends the enrolling code: the same code at the next check is a replay', async () => {
      const user = await rig.buildUser();
      const secret = newTotpSecret();
      const code = await totpCode(secret);
      await expect(rig.services.totp.confirmEnrolment(user.id, secret, code)).resolves.toBe(true);
      await expect(rig.services.totp.check(user.id, code)).resolves.toBe('replayed');
    });

    it('refuses a wrong or malformed code at enrolment, storing nothing, and at a check', async () => {
      const user = await rig.buildUser();
      const secret = newTotpSecret();
      await expect(rig.services.totp.confirmEnrolment(user.id, secret, await wrongTotpCode(secret))).resolves.toBe(
        false,
      );
      await expect(rig.services.totp.confirmEnrolment(user.id, secret, '12345a')).resolves.toBe(false);
      expect(await rig.storage.credentials.findTotp(user.id)).toBeNull();
      await expect(rig.services.totp.check(user.id, await totpCode(secret))).resolves.toBe('not-enrolled');
      await rig.services.totp.confirmEnrolment(user.id, secret, await totpCode(secret, -1));
      await expect(rig.services.totp.check(user.id, await wrongTotpCode(secret))).resolves.toBe('invalid');
      await expect(rig.services.totp.check(user.id, '')).resolves.toBe('invalid');
    });
  });

  describe('recovery codes', () => {
    it('uses each code once, as typed on paper (any case, spaces for dashes), and counts what is left', async () => {
      const user = await rig.buildUser();
      const codes = await rig.services.recovery.regenerate(user.id);
      expect(codes).toHaveLength(10);
      const [first = '', second = ''] = codes;
      await expect(rig.services.recovery.use(user.id, first)).resolves.toBe(true);
      await expect(rig.services.recovery.use(user.id, first)).resolves.toBe(false);
      await expect(rig.services.recovery.use(user.id, second.toLowerCase().replaceAll('-', ' '))).resolves.toBe(true);
      await expect(rig.services.recovery.remaining(user.id)).resolves.toBe(8);
    });

    it("refuses malformed codes, another account's code and codes replaced by a regeneration, spending none", async () => {
      const user = await rig.buildUser();
      const other = await rig.buildUser();
      const old = await rig.services.recovery.regenerate(user.id);
      const current = await rig.services.recovery.regenerate(user.id);
      const [theirs = ''] = await rig.services.recovery.regenerate(other.id);
      await expect(rig.services.recovery.use(user.id, old[0] ?? '')).resolves.toBe(false);
      await expect(rig.services.recovery.use(user.id, theirs)).resolves.toBe(false);
      await expect(rig.services.recovery.use(user.id, `${current[0] ?? ''}A`)).resolves.toBe(false);
      await expect(rig.services.recovery.use(user.id, 'OOOO-IIII-LLLL')).resolves.toBe(false);
      await expect(rig.services.recovery.remaining(user.id)).resolves.toBe(10);
      await expect(rig.services.recovery.remaining(other.id)).resolves.toBe(10);
    });
  });
});
