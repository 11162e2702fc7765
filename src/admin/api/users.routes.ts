import { z } from 'zod';
import type { UserRow } from '../../storage/entities/user.entity.js';
import { profileOf } from '../../accounts/profile.js';
import type { AdminServices } from '../services.js';
import type { UserDetail } from '../users.service.js';
import type { LockoutStatus } from '../../security/lockout.js';
import { decodeCursor, idParams, iso, pageOf, pageQuery, pageResponse, timestamp } from './common.js';
import { defineRoute } from './route.js';
import { profileChangesBody, profileChangesOf, profileView, viewProfile } from './user-profile-fields.js';

export const userView = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  email_verified: z.boolean(),
  disabled: z.boolean(),
  created_at: timestamp,
  updated_at: timestamp,
});

const lockoutView = z.object({
  failures: z.number().int(),
  locked_for_seconds: z.number().int().nullable(),
});

const viewLockout = (status: LockoutStatus): z.input<typeof lockoutView> => ({
  failures: status.failures,
  locked_for_seconds: status.lockedForSeconds,
});

const userDetailView = userView.extend({
  profile: profileView,
  roles: z.array(z.string()),
  has_password: z.boolean(),
  second_factors: z.object({
    totp: z.boolean(),
    webauthn: z.number().int().describe('Passkeys and security keys together'),
    passkeys: z.number().int(),
    security_keys: z.number().int(),
    recovery_codes: z.number().int(),
    email_code: z.boolean().describe('Codes by email turned on as a second factor'),
    sms: z.boolean().describe('Codes by SMS to a confirmed number'),
    phone_number: z.string().nullable().describe('The number, masked (+49********67); null: none'),
  }),
  lockout: z
    .object({ password: lockoutView, second_factor: lockoutView })
    .describe('Account-wide failed attempts and the wait they imposed (per-address waits are not listed)'),
});

function viewUser(user: UserRow): z.input<typeof userView> {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    email_verified: user.emailVerified,
    disabled: user.disabledAt !== null,
    created_at: iso(user.createdAt) ?? '',
    updated_at: iso(user.updatedAt) ?? '',
  };
}

function viewDetail(detail: UserDetail): z.input<typeof userDetailView> {
  return {
    ...viewUser(detail.user),
    profile: viewProfile(profileOf(detail.user.profile)),
    roles: detail.roles,
    has_password: detail.hasPassword,
    second_factors: {
      totp: detail.factors.totp,
      webauthn: detail.factors.webauthn,
      passkeys: detail.keys.passkeys,
      security_keys: detail.keys.securityKeys,
      recovery_codes: detail.factors.recoveryCodes,
      email_code: detail.codes.email,
      sms: detail.codes.sms,
      phone_number: detail.codes.maskedPhoneNumber,
    },
    lockout: {
      password: viewLockout(detail.lockout.password),
      second_factor: viewLockout(detail.lockout.secondFactor),
    },
  };
}

const password = z
  .string()
  .min(1)
  .max(1024)
  .describe('At least 12 characters (NIST SP 800-63B); stored as an argon2id hash.');

const createBody = z.strictObject({
  email: z.string().min(3).max(320),
  name: z.string().max(200).nullable().optional(),
  password: password.optional(),
  email_verified: z.boolean().default(false),
  roles: z.array(z.string().max(100)).max(100).default([]),
});

const updateBody = z
  .strictObject({
    email: z.string().min(3).max(320),
    name: z.string().max(200).nullable(),
    email_verified: z.boolean(),
    profile: profileChangesBody,
  })
  .partial();

const importSummary = z.object({
  imported: z.number().int(),
  password_hashes: z.record(z.string(), z.number().int()).describe('Users per password hash scheme.'),
  with_totp: z.number().int(),
});

export function userRoutes(admin: AdminServices) {
  return [
    defineRoute({
      method: 'get',
      path: '/users',
      tag: 'users',
      scope: 'admin:read',
      summary: 'List users (oldest first), optionally searching email and name',
      query: pageQuery.extend({
        search: z.string().max(320).optional().describe('Case-insensitive substring of email or name.'),
      }),
      status: 200,
      response: pageOf(userView),
      handler: async ({ query }) =>
        pageResponse(
          await admin.users.page({
            search: query.search,
            after: decodeCursor(query.cursor, 'uuid'),
            limit: query.limit,
          }),
          viewUser,
        ),
    }),
    defineRoute({
      method: 'post',
      path: '/users',
      tag: 'users',
      scope: 'admin:write',
      summary: 'Create a user',
      conflicts: true,
      body: createBody,
      status: 201,
      response: userDetailView,
      async handler({ body, actor }) {
        const user = await admin.users.create(
          {
            email: body.email,
            name: body.name,
            password: body.password,
            emailVerified: body.email_verified,
            roles: body.roles,
          },
          actor,
        );
        return viewDetail(await admin.users.get(user.id));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/users/import',
      tag: 'users',
      scope: 'admin:write',
      textBody: true,
      summary: 'Import a JSON Lines file of users (docs/import.md): all of them or, with any problem, none',
      status: 200,
      response: importSummary,
      async handler({ ctx, actor }) {
        const summary = await admin.users.import(String(ctx.request.body ?? ''), actor);
        return { imported: summary.imported, password_hashes: summary.passwordHashes, with_totp: summary.withTotp };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/users/:id',
      tag: 'users',
      scope: 'admin:read',
      summary: 'Read a user with roles and second factors',
      params: idParams,
      status: 200,
      response: userDetailView,
      handler: async ({ params }) => viewDetail(await admin.users.get(params.id)),
    }),
    defineRoute({
      method: 'patch',
      path: '/users/:id',
      tag: 'users',
      scope: 'admin:write',
      summary: 'Change email, name, email_verified or profile claims',
      conflicts: true,
      params: idParams,
      body: updateBody,
      status: 200,
      response: userDetailView,
      async handler({ params, body, actor }) {
        await admin.users.update(
          params.id,
          { email: body.email, name: body.name, emailVerified: body.email_verified },
          actor,
        );
        if (body.profile)
          await admin.profiles.update(params.id, profileChangesOf(body.profile), { kind: 'admin', actor });
        return viewDetail(await admin.users.get(params.id));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:id',
      tag: 'users',
      scope: 'admin:write',
      summary: 'Delete a user, their credentials, sessions and tokens',
      params: idParams,
      status: 204,
      handler: async ({ params, actor }) => {
        await admin.users.delete(params.id, actor);
        return undefined;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/users/:id/disable',
      tag: 'users',
      scope: 'admin:write',
      summary: 'Disable a user: their sessions and tokens end at once',
      params: idParams,
      status: 200,
      response: userView,
      handler: async ({ params, actor }) => viewUser(await admin.users.setDisabled(params.id, true, actor)),
    }),
    defineRoute({
      method: 'post',
      path: '/users/:id/enable',
      tag: 'users',
      scope: 'admin:write',
      summary: 'Enable a disabled user',
      params: idParams,
      status: 200,
      response: userView,
      handler: async ({ params, actor }) => viewUser(await admin.users.setDisabled(params.id, false, actor)),
    }),
    defineRoute({
      method: 'put',
      path: '/users/:id/password',
      tag: 'users',
      scope: 'admin:write',
      summary: "Set a user's password",
      params: idParams,
      body: z.strictObject({ password }),
      status: 204,
      handler: async ({ params, body, actor }) => {
        await admin.users.setPassword(params.id, body.password, actor);
        return undefined;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/users/:id/second-factors/reset',
      tag: 'users',
      scope: 'admin:write',
      summary: 'Remove every second factor (TOTP, passkeys, security keys, recovery codes, email and SMS codes)',
      params: idParams,
      status: 200,
      response: z.object({ removed: z.number().int() }),
      handler: async ({ params, actor }) => ({ removed: await admin.users.resetFactors(params.id, actor) }),
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:id/second-factors/:channel',
      tag: 'users',
      scope: 'admin:write',
      summary: "Turn off a user's email codes, or remove their phone number and SMS codes",
      params: idParams.extend({ channel: z.enum(['email', 'sms']) }),
      status: 200,
      response: userDetailView,
      async handler({ params, actor }) {
        await admin.users.removeCodeFactor(params.id, params.channel, actor);
        return viewDetail(await admin.users.get(params.id));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/users/:id/unlock',
      tag: 'users',
      scope: 'admin:write',
      summary:
        'End every sign-in lockout of a user (password and second factor, all addresses) and forget their failures',
      params: idParams,
      status: 200,
      response: userDetailView,
      async handler({ params, actor }) {
        await admin.users.unlock(params.id, actor);
        return viewDetail(await admin.users.get(params.id));
      },
    }),
  ];
}
