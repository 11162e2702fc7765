import type { Config } from '../config/schema.js';
import type { MessageParams } from '../i18n/catalogue.js';
import type { BreachedPasswordList } from './breached-passwords.js';
import { PolicyRefusedError } from '../errors/domain-errors.js';

/**
 * Local parts shorter than this are not looked for in the password: "jo@…" would refuse every
 * password containing "jo", which blocks good passphrases and protects nothing.
 */
const MIN_CHECKED_LOCAL_PART = 4;

type PasswordRule = 'too-short' | 'too-long' | 'breached' | 'contains-email';

/** The rule a password breaks, with the catalogue message that says so. */
export interface PasswordProblem {
  rule: PasswordRule;
  key: string;
  params: MessageParams;
}

/** NIST SP 800-63B §5.1.1.2: passwords are NFKC-normalised before they are measured and hashed. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Length in Unicode code points of the normalised form, as the rules count it. */
export function passwordLength(password: string): number {
  return [...normalizePassword(password)].length;
}

/** The pieces of an address a password must not contain: the local part, and the part before a +tag. */
function emailFragments(email: string): string[] {
  const local = email
    .trim()
    .slice(0, Math.max(0, email.trim().lastIndexOf('@')))
    .normalize('NFKC')
    .toLowerCase();
  const untagged = local.split('+')[0] ?? '';
  return [...new Set([local, untagged])].filter((part) => [...part].length >= MIN_CHECKED_LOCAL_PART);
}

export interface PasswordPolicy {
  readonly minLength: number;
  readonly maxLength: number;
  /** The first rule `password` breaks for the account with `email`, or undefined. */
  problem(password: string, account: { email: string }): Promise<PasswordProblem | undefined>;
  /**
   * The password when it meets every rule; otherwise a PolicyRefusedError on `password` naming
   * the rule, in English (admin API, console, CLI) and as its catalogue message (pages).
   */
  enforce(password: string, account: { email: string }): Promise<string>;
}

/**
 * NIST SP 800-63B §5.1.1.2 (memorized secrets): a minimum and a maximum length, no composition
 * rules, and a refusal of passwords that are common, breached or derived from the account's
 * email. The breached list loads in the background at boot (about 0.2 s): a check that comes
 * before it is ready waits for it rather than skipping the rule.
 */
export function createPasswordPolicy(deps: {
  settings: Config['passwordPolicy'];
  /** The list, once loaded (breached-passwords.ts shippedBreachedList). */
  breached: () => Promise<BreachedPasswordList>;
  /** English text for a catalogue key: the message of the refusal. */
  english: (key: string, params?: MessageParams) => string;
}): PasswordPolicy {
  const { minLength, maxLength } = deps.settings;
  const found = (rule: PasswordRule, key: string, params: MessageParams = {}): PasswordProblem => ({
    rule,
    key: `password-policy.${key}`,
    params,
  });

  const problem = async (password: string, account: { email: string }): Promise<PasswordProblem | undefined> => {
    const length = passwordLength(password);
    if (length < minLength) return found('too-short', 'too_short', { min: minLength });
    if (length > maxLength) return found('too-long', 'too_long', { max: maxLength });
    const lowered = normalizePassword(password).toLowerCase();
    if (emailFragments(account.email).some((part) => lowered.includes(part)))
      return found('contains-email', 'contains_email');
    if ((await deps.breached()).has(password)) return found('breached', 'breached');
    return undefined;
  };

  return {
    minLength,
    maxLength,
    problem,
    async enforce(password, account) {
      const broken = await problem(password, account);
      if (broken)
        throw new PolicyRefusedError('password', broken.rule, deps.english(broken.key, broken.params), {
          key: broken.key,
          params: broken.params,
        });
      return password;
    },
  };
}
