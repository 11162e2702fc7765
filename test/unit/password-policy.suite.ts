import { buildBreachedPasswordList } from '../../src/accounts/breached-passwords.js';
import { createPasswordPolicy, passwordLength } from '../../src/accounts/password-policy.js';
import { PolicyRefusedError } from '../../src/errors/domain-errors.js';

const list = buildBreachedPasswordList(new TextEncoder().encode('password1234\nletmeinletmein\n'));
const policy = createPasswordPolicy({
  settings: { minLength: 12, maxLength: 128 },
  breached: async () => list,
  english: (key, params) => `${key} ${JSON.stringify(params ?? {})}`,
});
const account = { email: 'alice.smith+news@example.com' };
const ruleOf = async (password: string, email = account.email) => (await policy.problem(password, { email }))?.rule;

describe('password policy', () => {
  it('accepts a long passphrase with no composition rules', async () => {
    expect(await ruleOf('maple river quietly folding paper')).toBeUndefined();
    expect(await policy.enforce('maple river quietly folding paper', account)).toBe(
      'maple river quietly folding paper',
    );
  });

  it('names the rule a password breaks, with the catalogue message and its parameters', async () => {
    expect(await policy.problem('short pass', account)).toEqual({
      rule: 'too-short',
      key: 'password-policy.too_short',
      params: { min: 12 },
    });
    expect(await policy.problem('x'.repeat(129), account)).toEqual({
      rule: 'too-long',
      key: 'password-policy.too_long',
      params: { max: 128 },
    });
    expect(await ruleOf('Password1234')).toBe('breached');
    expect(await ruleOf('my ALICE.SMITH password')).toBe('contains-email');
    expect(await ruleOf('alice.smith+news forever')).toBe('contains-email');
  });

  it('counts code points after NFKC, so an emoji is one character and a ligature is its letters', async () => {
    expect(passwordLength('😀'.repeat(12))).toBe(12);
    expect(passwordLength('ﬁ')).toBe(2);
    expect(await ruleOf('😀'.repeat(12))).toBeUndefined();
    expect(await ruleOf('😀'.repeat(11))).toBe('too-short');
  });

  it('ignores a local part shorter than four characters (it would refuse too much)', async () => {
    expect(await ruleOf('bob likes long passphrases', 'bob@example.com')).toBeUndefined();
    expect(await ruleOf('robert likes passphrases', 'robert@example.com')).toBe('contains-email');
  });

  it('throws a PolicyRefusedError on the password field, naming the rule and its catalogue message', async () => {
    const refused = policy.enforce('password1234', account);
    await expect(refused).rejects.toBeInstanceOf(PolicyRefusedError);
    await expect(refused).rejects.toMatchObject({
      field: 'password',
      rule: 'breached',
      catalogue: { key: 'password-policy.breached' },
    });
  });
});
