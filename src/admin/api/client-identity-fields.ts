import { z } from 'zod';
import { SUBJECT_TYPES, USERINFO_ALGS, type ClientIdentityInput } from '../../clients/client-identity.js';

/** The client fields of pairwise subjects, front-channel logout and signed userinfo (clients/client-identity.ts). */
export const identityFields = {
  subject_type: z
    .enum(SUBJECT_TYPES)
    .describe('OIDC Core §8.1: "pairwise" gives this client its own sub for each user (per sector).'),
  sector_identifier_uri: z
    .string()
    .max(2000)
    .describe(
      'https URL of a JSON array listing every redirect URI of the sector; fetched and checked when saved. "" removes it.',
    ),
  frontchannel_logout_uri: z
    .string()
    .max(2000)
    .describe('OIDC Front-Channel Logout 1.0: loaded in an iframe when a session ends. "" removes it.'),
  frontchannel_logout_session_required: z.boolean().describe('The iframe URL carries iss and sid.'),
  userinfo_signed_response_alg: z
    .enum(USERINFO_ALGS)
    .nullable()
    .describe('Userinfo answered as a JWT signed with this algorithm; null: plain JSON.'),
};

export const identityCreateFields = {
  subject_type: identityFields.subject_type.optional(),
  sector_identifier_uri: identityFields.sector_identifier_uri.optional(),
  frontchannel_logout_uri: identityFields.frontchannel_logout_uri.optional(),
  frontchannel_logout_session_required: identityFields.frontchannel_logout_session_required.optional(),
  userinfo_signed_response_alg: identityFields.userinfo_signed_response_alg.optional(),
};

type IdentityBody = Partial<{ [K in keyof typeof identityFields]: z.output<(typeof identityFields)[K]> }>;

export function identityInputFrom(body: IdentityBody): ClientIdentityInput {
  const input: ClientIdentityInput = {};
  if (body.subject_type !== undefined) input.subjectType = body.subject_type;
  if (body.sector_identifier_uri !== undefined) input.sectorIdentifierUri = body.sector_identifier_uri;
  if (body.frontchannel_logout_uri !== undefined) input.frontchannelLogoutUri = body.frontchannel_logout_uri;
  if (body.frontchannel_logout_session_required !== undefined)
    input.frontchannelLogoutSessionRequired = body.frontchannel_logout_session_required;
  if (body.userinfo_signed_response_alg !== undefined)
    input.userinfoSignedResponseAlg = body.userinfo_signed_response_alg ?? '';
  return input;
}

export const identityView = {
  subject_type: z.string(),
  sector_identifier_uri: z.string().nullable(),
  frontchannel_logout_uri: z.string().nullable(),
  frontchannel_logout_session_required: z.boolean(),
  userinfo_signed_response_alg: z.string().nullable(),
};

export function viewIdentity(input: ClientIdentityInput): {
  [K in keyof typeof identityView]: z.input<(typeof identityView)[K]>;
} {
  return {
    subject_type: input.subjectType ?? 'public',
    sector_identifier_uri: input.sectorIdentifierUri ?? null,
    frontchannel_logout_uri: input.frontchannelLogoutUri ?? null,
    frontchannel_logout_session_required: input.frontchannelLogoutSessionRequired === true,
    userinfo_signed_response_alg: input.userinfoSignedResponseAlg ?? null,
  };
}
