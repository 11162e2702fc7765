import { STORE_BACKENDS } from '../helpers/backends.js';
import { useServices, type TestServices } from '../helpers/services.js';
import type { DefaultFactorMethod } from '../../src/storage/phones.repository.js';

const PHONE = '+491701234567';
type Channel = 'email' | 'sms';
type ClientMetadata = Readonly<Record<string, unknown>> | undefined;

/**
 * The answer as it was read before one statement gave it: the credentials, then code_factors,
 * user_phones and default_second_factors each on their own, with the rules the services had
 * (a verified number for SMS, a default only while its factor is there, config and client gates).
 */
async function readSeparately(rig: TestServices, userId: string, client: ClientMetadata) {
  const { credentials, phones } = rig.storage;
  const rows = await credentials.listSecondFactors(userId);
  const count = (type: string) => rows.filter((r) => r.type === type).length;
  const totp = count('totp') > 0;
  const factors = { totp, webauthn: count('webauthn'), recoveryCodes: count('recovery_code') };
  const [channels, phone, chosen] = await Promise.all([
    phones.factors(userId),
    phones.find(userId),
    phones.defaultFactor(userId),
  ]);
  const email = channels.includes('email');
  const sms = channels.includes('sms') && phone?.verified === true;
  const has = (method: DefaultFactorMethod) =>
    method === 'email' || method === 'sms' ? { email, sms }[method] : rows.some((row) => row.type === method);
  const { codes, sms: smsConfig } = rig.config;
  return {
    factors: { ...factors, enrolled: totp || factors.webauthn > 0 || factors.recoveryCodes > 0 },
    codes: {
      email,
      sms,
      phone: phone ? { phoneNumber: phone.phoneNumber, verified: phone.verified } : null,
      defaultFactor: chosen && has(chosen) ? chosen : null,
    },
    available: [
      ...(email && codes.emailSecondFactor ? (['email'] as const) : []),
      ...(sms && smsConfig.enabled && client?.gatehouse_sms !== false ? (['sms'] as const) : []),
    ],
  };
}

const NO_FACTORS = { totp: false, webauthn: 0, recoveryCodes: 0, enrolled: false };
const NO_CODES = { email: false, sms: false, phone: null, defaultFactor: null };

/**
 * codes/code-factors.ts signInFactors: what the resume of a sign-in (oidc/policy.ts), the
 * second step's page and /account read in one statement (storage/phones.repository.ts
 * secondFactorState) is what the separate reads gave, case by case.
 */
describe.each(STORE_BACKENDS)('a user’s second factors in one read (%s)', (backend) => {
  describe('with email codes and SMS offered', () => {
    const rig = useServices({}, backend);

    /** The one read, checked against the separate reads and `expected`, for a client with `client` metadata. */
    async function expectRead(userId: string, expected: unknown, client?: ClientMetadata) {
      const read = await rig.services.codeFactors.signInFactors(userId, client);
      expect(read).toEqual(expected);
      expect(read).toEqual(await readSeparately(rig, userId, client));
      expect(read.factors).toEqual(await rig.services.secondFactors.summary(userId));
      expect(read.codes).toEqual(await rig.services.codeFactors.summary(userId));
      expect(read.available).toEqual(await rig.services.codeFactors.available(userId, client));
    }

    it('nothing enrolled: no factor, no code, nothing to offer', async () => {
      const user = await rig.buildUser();
      await expectRead(user.id, { factors: NO_FACTORS, codes: NO_CODES, available: [] });
    });

    it('an authenticator app, chosen as the default', async () => {
      const user = await rig.buildUser();
      await rig.storage.credentials.setTotp(user.id, 'sealed-secret');
      await expectRead(user.id, {
        factors: { ...NO_FACTORS, totp: true, enrolled: true },
        codes: NO_CODES,
        available: [],
      });
      await rig.storage.phones.setDefaultFactor(user.id, 'totp');
      await expectRead(user.id, {
        factors: { ...NO_FACTORS, totp: true, enrolled: true },
        codes: { ...NO_CODES, defaultFactor: 'totp' },
        available: [],
      });
    });

    it('passkeys, counted', async () => {
      const user = await rig.buildUser();
      for (const n of [1, 2]) {
        await rig.storage.credentials.addWebAuthn({
          userId: user.id,
          credentialId: `${backend}-${user.id}-${n}`,
          publicKey: 'public-key',
          label: `Key ${n}`,
          data: {},
        });
      }
      await expectRead(user.id, {
        factors: { ...NO_FACTORS, webauthn: 2, enrolled: true },
        codes: NO_CODES,
        available: [],
      });
    });

    it('recovery codes alone count as enrolled', async () => {
      const user = await rig.buildUser();
      await rig.services.recovery.regenerate(user.id);
      await expectRead(user.id, {
        factors: { ...NO_FACTORS, recoveryCodes: 10, enrolled: true },
        codes: NO_CODES,
        available: [],
      });
    });

    it('email codes on: offered, yet no app, key or recovery code enrolled', async () => {
      const user = await rig.buildUser();
      await rig.storage.phones.enableFactor(user.id, 'email');
      await expectRead(user.id, { factors: NO_FACTORS, codes: { ...NO_CODES, email: true }, available: ['email'] });
    });

    it('a verified number takes SMS codes, except for a client that turned SMS off; an unverified one does not', async () => {
      const user = await rig.buildUser();
      await rig.storage.phones.set(user.id, PHONE, true);
      await rig.storage.phones.enableFactor(user.id, 'sms');
      await rig.storage.phones.enableFactor(user.id, 'email');
      const codes = { ...NO_CODES, email: true, sms: true, phone: { phoneNumber: PHONE, verified: true } };
      const both: Channel[] = ['email', 'sms'];
      await expectRead(user.id, { factors: NO_FACTORS, codes, available: both });
      await expectRead(user.id, { factors: NO_FACTORS, codes, available: ['email'] }, { gatehouse_sms: false });
      await expectRead(user.id, { factors: NO_FACTORS, codes, available: both }, { gatehouse_sms: true });

      await rig.storage.phones.set(user.id, PHONE, false);
      await expectRead(user.id, {
        factors: NO_FACTORS,
        codes: { ...codes, sms: false, phone: { phoneNumber: PHONE, verified: false } },
        available: ['email'],
      });
    });

    it('a default whose factor is gone reads as none', async () => {
      const user = await rig.buildUser();
      await rig.storage.phones.set(user.id, PHONE, true);
      await rig.storage.phones.enableFactor(user.id, 'sms');
      await rig.storage.phones.setDefaultFactor(user.id, 'sms');
      const phone = { phoneNumber: PHONE, verified: true };
      await expectRead(user.id, {
        factors: NO_FACTORS,
        codes: { ...NO_CODES, sms: true, phone, defaultFactor: 'sms' },
        available: ['sms'],
      });
      await rig.storage.phones.disableFactor(user.id, 'sms');
      await expectRead(user.id, { factors: NO_FACTORS, codes: { ...NO_CODES, phone }, available: [] });
      await rig.storage.phones.setDefaultFactor(user.id, 'webauthn');
      await expectRead(user.id, { factors: NO_FACTORS, codes: { ...NO_CODES, phone }, available: [] });
    });

    it('refuses a default the user does not have, and takes one they do', async () => {
      const user = await rig.buildUser();
      const origin = { ip: '203.0.113.9' };
      await expect(rig.services.codeFactors.setDefaultFactor(user.id, 'totp', origin)).rejects.toThrow(
        /not one of your/,
      );
      await expect(rig.services.codeFactors.setDefaultFactor(user.id, 'email', origin)).rejects.toThrow(
        /not one of your/,
      );
      await rig.storage.credentials.setTotp(user.id, 'sealed-secret');
      await rig.services.codeFactors.setDefaultFactor(user.id, 'totp', origin);
      expect((await rig.services.codeFactors.signInFactors(user.id)).codes.defaultFactor).toBe('totp');
    });

    it('an id that is no user id reads as nothing enrolled', async () => {
      await expect(rig.services.codeFactors.signInFactors('not-a-uuid')).resolves.toEqual({
        factors: NO_FACTORS,
        codes: NO_CODES,
        available: [],
      });
    });
  });

  describe('with email codes and SMS turned off by the deployment', () => {
    const rig = useServices({ codes: { emailSecondFactor: false }, sms: { enabled: false } }, backend);

    it('the codes the user turned on are read, and none is offered', async () => {
      const user = await rig.buildUser();
      await rig.storage.phones.set(user.id, PHONE, true);
      await rig.storage.phones.enableFactor(user.id, 'sms');
      await rig.storage.phones.enableFactor(user.id, 'email');
      const read = await rig.services.codeFactors.signInFactors(user.id);
      expect(read).toEqual({
        factors: NO_FACTORS,
        codes: { ...NO_CODES, email: true, sms: true, phone: { phoneNumber: PHONE, verified: true } },
        available: [],
      });
      expect(read).toEqual(await readSeparately(rig, user.id, undefined));
    });
  });
});
