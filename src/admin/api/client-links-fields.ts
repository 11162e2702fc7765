import { z } from 'zod';
import type { ClientLinksInput } from '../../clients/client-links.js';

const link = (what: string) =>
  z.string().max(2000).describe(`${what} (https, or http on loopback); shown on the consent page. "" removes it.`);

/** What the consent page shows of a client besides its name (clients/client-links.ts). */
const linkFields = {
  logo_uri: link(
    "The client's logo; the consent page shows it only when it is https on the origin of the redirect URI the user is sent back to",
  ),
  policy_uri: link("The client's privacy policy"),
  tos_uri: link("The client's terms of service"),
};

/** The same fields for a create, where each is optional, and for an update (partial anyway). */
export const linkCreateFields = {
  logo_uri: linkFields.logo_uri.optional(),
  policy_uri: linkFields.policy_uri.optional(),
  tos_uri: linkFields.tos_uri.optional(),
};

type LinksBody = Partial<{ [K in keyof typeof linkFields]: string }>;

export function linksInputFrom(body: LinksBody): ClientLinksInput {
  const input: ClientLinksInput = {};
  if (body.logo_uri !== undefined) input.logoUri = body.logo_uri;
  if (body.policy_uri !== undefined) input.policyUri = body.policy_uri;
  if (body.tos_uri !== undefined) input.tosUri = body.tos_uri;
  return input;
}

export const linksView = {
  logo_uri: z.string().nullable(),
  policy_uri: z.string().nullable(),
  tos_uri: z.string().nullable(),
};

export function viewLinks(input: ClientLinksInput): { [K in keyof typeof linksView]: string | null } {
  return { logo_uri: input.logoUri ?? null, policy_uri: input.policyUri ?? null, tos_uri: input.tosUri ?? null };
}
