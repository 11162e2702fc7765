import { z } from 'zod';
import type { AdminServices } from '../services.js';
import { iso, timestamp } from './common.js';
import { defineRoute } from './route.js';

const tokenView = z.object({
  id: z.string().describe('A reference (SHA-256 prefix), not the token: list and revoke by it.'),
  note: z.string().nullable(),
  created_at: timestamp,
  expires_at: timestamp.nullable(),
});

export function initialAccessTokenRoutes(admin: AdminServices) {
  return [
    defineRoute({
      method: 'get',
      path: '/initial-access-tokens',
      tag: 'registration',
      scope: 'admin:read',
      summary: 'Live initial access tokens for dynamic client registration (never their values)',
      status: 200,
      response: z.object({ items: z.array(tokenView) }),
      handler: async () => ({
        items: (await admin.initialAccessTokens.list()).map((t) => ({
          id: t.id,
          note: t.note,
          created_at: iso(t.createdAt) ?? '',
          expires_at: iso(t.expiresAt),
        })),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/initial-access-tokens',
      tag: 'registration',
      scope: 'admin:write',
      summary: 'Issue an initial access token (RFC 7591 §3); its value is in this response only',
      body: z.strictObject({
        ttl_seconds: z
          .number()
          .int()
          .min(1)
          .max(366 * 24 * 3600)
          .optional()
          .describe('Default: registration.initialAccessTokenTtlSeconds.'),
        note: z.string().max(200).optional().describe('What it is for, shown in the list.'),
      }),
      status: 201,
      response: z.object({ id: z.string(), token: z.string(), expires_at: timestamp }),
      async handler({ body, actor }) {
        const created = await admin.initialAccessTokens.create(
          { ttlSeconds: body.ttl_seconds, note: body.note },
          actor,
        );
        return { id: created.id, token: created.token, expires_at: created.expiresAt.toISOString() };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/initial-access-tokens/:id',
      tag: 'registration',
      scope: 'admin:write',
      summary: 'Revoke an initial access token: registrations with it are refused from now on',
      params: z.strictObject({ id: z.string().regex(/^[0-9a-f]{16}$/, 'must be a token reference from the list') }),
      status: 204,
      handler: async ({ params, actor }) => {
        await admin.initialAccessTokens.revoke(params.id, actor);
        return undefined;
      },
    }),
  ];
}
