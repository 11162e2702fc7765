import { isAllowedDomain } from '../../src/accounts/sign-up-settings.js';
import { maskEmail } from '../../src/mail/account-mail.js';

describe('allowed sign-up domains', () => {
  const allowed = ['example.com', 'partner.example'];
  test.each([
    ['ada@example.com', true],
    ['ada@EXAMPLE.com', true],
    ['ada@Partner.Example', true],
    ['ada@mail.example.com', false],
    ['ada@example.com.evil.test', false],
    ['ada@notexample.com', false],
    ['"a@example.com"@evil.test', false],
  ])('%s → %s', (email, expected) => {
    expect(isAllowedDomain(email, allowed)).toBe(expected);
  });

  test('an empty list admits any domain', () => {
    expect(isAllowedDomain('ada@anywhere.test', [])).toBe(true);
  });
});

describe('masked addresses in notices', () => {
  test.each([
    ['ada@example.com', 'a***@example.com'],
    ['x@example.com', 'x***@example.com'],
  ])('%s → %s', (email, masked) => {
    expect(maskEmail(email)).toBe(masked);
  });
});
