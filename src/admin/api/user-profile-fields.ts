import { z } from 'zod';
import type { Profile, ProfileChanges } from '../../accounts/profile.js';

const text = (max: number, describe: string) => z.string().max(max).nullable().optional().describe(describe);

/** The profile claims an admin may change (OIDC Core §5.1); null or "" clears one. Validated by accounts/profile.ts. */
export const profileChangesBody = z
  .strictObject({
    given_name: text(100, 'Given name(s) or first name(s).'),
    family_name: text(100, 'Surname(s) or last name(s).'),
    preferred_username: text(100, 'Shorthand name; no spaces; not unique.'),
    picture: text(2000, 'https URL of a profile picture.'),
    locale: text(35, 'BCP 47 language tag, e.g. de-DE.'),
    zoneinfo: text(64, 'IANA time zone, e.g. Europe/Berlin.'),
    birthdate: text(10, 'YYYY-MM-DD, 0000-MM-DD (year withheld) or YYYY.'),
    address: z
      .strictObject({
        formatted: text(500, 'The full address, lines separated by newlines.'),
        street_address: text(200, 'Street, number, apartment.'),
        locality: text(200, 'City.'),
        region: text(200, 'State, province or region.'),
        postal_code: text(200, 'Postal code.'),
        country: text(200, 'Country name.'),
      })
      .nullable()
      .optional(),
  })
  .describe('The standard profile claims (OIDC Core 5.1); a field left out keeps its value.');

export const profileView = z
  .object({
    given_name: z.string().optional(),
    family_name: z.string().optional(),
    preferred_username: z.string().optional(),
    picture: z.string().optional(),
    locale: z.string().optional(),
    zoneinfo: z.string().optional(),
    birthdate: z.string().optional(),
    address: z
      .object({
        formatted: z.string().optional(),
        street_address: z.string().optional(),
        locality: z.string().optional(),
        region: z.string().optional(),
        postal_code: z.string().optional(),
        country: z.string().optional(),
      })
      .optional(),
  })
  .describe('The profile claims the user has; absent members are unset.');

export const viewProfile = (profile: Profile): z.input<typeof profileView> => ({ ...profile });

export const profileChangesOf = (body: z.output<typeof profileChangesBody>): ProfileChanges => body;
