import { parsePhoneNumberFromString as parseWith, type CountryCode } from 'libphonenumber-js/core';
// The full metadata: with it isValid() checks each region's number patterns, not only lengths.
// Imported by its package path and given explicitly (the core entry point): jest maps relative
// `.js` imports to extensionless ones, which would load the package's JSON in place of its module.
import metadata from 'libphonenumber-js/max/metadata';

const parsePhoneNumberFromString = (text: string, country?: CountryCode) =>
  parseWith(text, { defaultCountry: country }, metadata);
import { InvalidInputError, PolicyRefusedError } from '../errors/domain-errors.js';

/**
 * A phone number as typed (`+49 170 1234567`, or national with `defaultCountry`) in E.164
 * (`+491701234567`), the form the `phone_number` claim and every gateway use. Refused: what
 * libphonenumber-js cannot read as a possible, valid number of a known region, and numbers of
 * regions outside `allowedCountries` (toll fraud sends to premium-rate ranges abroad).
 */
export function parsePhoneNumber(
  typed: string,
  allowedCountries: readonly string[],
  defaultCountry?: string,
): { e164: string; country: string } {
  const trimmed = typed.trim();
  if (trimmed.length === 0 || trimmed.length > 32 || !/^[+\d\s().-]+$/.test(trimmed)) {
    throw new InvalidInputError('phone_number', 'must be a phone number such as +49 170 1234567');
  }
  const parsed = parsePhoneNumberFromString(trimmed, toCountry(defaultCountry));
  if (!parsed?.isValid() || !parsed.country) {
    throw new InvalidInputError('phone_number', 'must be a valid phone number with its country code');
  }
  if (!allowedCountries.includes(parsed.country)) {
    throw new PolicyRefusedError('phone_number', 'country', `numbers of ${parsed.country} are not accepted here`, {
      key: 'codes.errors.country',
      params: { country: parsed.country },
    });
  }
  return { e164: parsed.number, country: parsed.country };
}

/** The region of an E.164 number, or undefined when it has none we know (checked again before every send). */
export function countryOf(e164: string): string | undefined {
  return parsePhoneNumberFromString(e164)?.country;
}

const toCountry = (value: string | undefined): CountryCode | undefined =>
  value && /^[A-Z]{2}$/.test(value) ? (value as CountryCode) : undefined;
