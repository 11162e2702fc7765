import { InvalidInputError } from '../errors/domain-errors.js';

/** OIDC Core §5.1.1: the address claim, each member optional. */
interface Address {
  formatted?: string;
  street_address?: string;
  locality?: string;
  region?: string;
  postal_code?: string;
  country?: string;
}

/** The standard profile claims a user has besides name and email (OIDC Core §5.1), as stored. */
export interface Profile {
  given_name?: string;
  family_name?: string;
  preferred_username?: string;
  picture?: string;
  locale?: string;
  zoneinfo?: string;
  birthdate?: string;
  address?: Address;
}

export const PROFILE_TEXT_FIELDS = [
  'given_name',
  'family_name',
  'preferred_username',
  'picture',
  'locale',
  'zoneinfo',
  'birthdate',
] as const;
type ProfileTextField = (typeof PROFILE_TEXT_FIELDS)[number];
export const ADDRESS_FIELDS = ['formatted', 'street_address', 'locality', 'region', 'postal_code', 'country'] as const;

/** A change: a field given replaces it, '' or null clears it; an absent one stays. */
export type ProfileChanges = Partial<Record<ProfileTextField, string | null>> & {
  address?: Partial<Record<(typeof ADDRESS_FIELDS)[number], string | null>> | null;
};

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

function plainText(field: string, value: string, max: number, multiline = false): string {
  const text = value.trim();
  if (text.length > max) throw new InvalidInputError(field, `must be at most ${max} characters`);
  if (CONTROL.test(text) || (!multiline && /[\r\n]/.test(text)))
    throw new InvalidInputError(field, 'must not contain control characters');
  return text;
}

/** BCP 47 (OIDC Core §5.1: `locale`), in its canonical spelling. */
function checkLocale(value: string): string {
  try {
    const [canonical] = Intl.getCanonicalLocales(value);
    if (canonical && value.length <= 35) return canonical;
  } catch {
    // A RangeError: not a language tag.
  }
  throw new InvalidInputError('locale', 'must be a language tag such as en-GB or de');
}

/** An IANA time zone name (OIDC Core §5.1: `zoneinfo`), e.g. Europe/Berlin. */
function checkZone(value: string): string {
  if (value.length <= 64 && /^[A-Za-z][A-Za-z0-9_+/-]*$/.test(value)) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: value });
      return value;
    } catch {
      // A RangeError: no such zone.
    }
  }
  throw new InvalidInputError('zoneinfo', 'must be a time zone name such as Europe/Berlin');
}

/**
 * OIDC Core §5.1 `birthdate`: YYYY-MM-DD, 0000-MM-DD when the year is withheld, or YYYY alone;
 * a real calendar date, not in the future.
 */
function checkBirthdate(value: string, today: Date): string {
  const bad = () =>
    new InvalidInputError('birthdate', 'must be a date YYYY-MM-DD (0000-MM-DD without the year), or YYYY');
  const year = /^(\d{4})$/.exec(value);
  if (year) {
    const y = Number(year[1]);
    if (y < 1800 || y > today.getUTCFullYear()) throw bad();
    return value;
  }
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) throw bad();
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Year 0000 means withheld: check the day against a leap year, so 0000-02-29 is allowed.
  const date = new Date(Date.UTC(y === 0 ? 2000 : y, m - 1, d));
  if (date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) throw bad();
  if (y !== 0 && (y < 1800 || date.getTime() > today.getTime())) throw bad();
  return value;
}

/** An absolute https URL of an image (OIDC Core §5.1 `picture`); never a script or data URL. */
function checkPicture(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInputError('picture', 'must be an https URL');
  }
  if (url.protocol !== 'https:' || url.username || url.password || value.length > 2000)
    throw new InvalidInputError('picture', 'must be an https URL');
  return value;
}

function checkText(field: ProfileTextField, value: string, today: Date): string {
  switch (field) {
    case 'given_name':
    case 'family_name':
      return plainText(field, value, 100);
    case 'preferred_username': {
      const text = plainText(field, value, 100);
      if (/\s/.test(text)) throw new InvalidInputError(field, 'must not contain spaces');
      return text;
    }
    case 'picture':
      return checkPicture(value.trim());
    case 'locale':
      return checkLocale(value.trim());
    case 'zoneinfo':
      return checkZone(value.trim());
    case 'birthdate':
      return checkBirthdate(value.trim(), today);
  }
}

function applyAddress(current: Address | undefined, changes: ProfileChanges['address']): Address | undefined {
  if (changes === undefined) return current;
  if (changes === null) return undefined;
  const next: Address = { ...current };
  for (const field of ADDRESS_FIELDS) {
    const value = changes[field];
    if (value === undefined) continue;
    const text =
      value === null
        ? ''
        : plainText(`address.${field}`, value, field === 'formatted' ? 500 : 200, field === 'formatted');
    if (text) next[field] = text;
    else delete next[field];
  }
  return Object.keys(next).length > 0 ? next : undefined;
}

/** The profile after a change, every given value validated; InvalidInputError names the first bad field. */
export function applyProfileChanges(current: Profile, changes: ProfileChanges, today = new Date()): Profile {
  const next: Profile = { ...current };
  for (const field of PROFILE_TEXT_FIELDS) {
    const value = changes[field];
    if (value === undefined) continue;
    if (value === null || value.trim() === '') delete next[field];
    else next[field] = checkText(field, value, today);
  }
  const address = applyAddress(current.address, changes.address);
  if (address) next.address = address;
  else delete next.address;
  return next;
}

/** A stored profile read defensively: only the known string members survive. */
export function profileOf(stored: unknown): Profile {
  if (typeof stored !== 'object' || stored === null) return {};
  const source = stored as Record<string, unknown>;
  const profile: Profile = {};
  for (const field of PROFILE_TEXT_FIELDS) if (typeof source[field] === 'string') profile[field] = source[field];
  if (typeof source.address === 'object' && source.address !== null) {
    const raw = source.address as Record<string, unknown>;
    const address: Address = {};
    for (const field of ADDRESS_FIELDS) if (typeof raw[field] === 'string') address[field] = raw[field];
    if (Object.keys(address).length > 0) profile.address = address;
  }
  return profile;
}
