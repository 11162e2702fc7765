import { z } from 'zod';
import type { AdminServices } from '../services.js';
import { idParams, iso, timestamp } from './common.js';
import { defineRoute } from './route.js';

const sessionView = z.object({
  id: z.string().describe("The session's stable id (its uid), the same across the sign-ins made in it."),
  client_ids: z.array(z.string()).describe('Clients signed in through this session.'),
  auth_time: z.number().int().nullable(),
  created_at: timestamp,
  expires_at: timestamp.nullable(),
  ip: z.string().nullable().describe('Where the browser was last seen from.'),
  user_agent: z.string().nullable(),
  device: z
    .object({ browser: z.string().nullable(), os: z.string().nullable(), mobile: z.boolean() })
    .describe('The browser, read from its user agent.'),
  last_seen_at: timestamp.nullable().describe('Recorded at most about once a minute.'),
  persistent: z.boolean().describe('"Keep me signed in" was chosen: the cookie outlives the browser.'),
});
const grantView = z.object({ id: z.string(), client_id: z.string(), scope: z.string(), created_at: timestamp });

export function sessionRoutes(admin: AdminServices) {
  return [
    defineRoute({
      method: 'get',
      path: '/users/:id/sessions',
      tag: 'sessions',
      scope: 'admin:read',
      summary: "A user's live sessions, newest first",
      params: idParams,
      status: 200,
      response: z.object({ items: z.array(sessionView) }),
      handler: async ({ params }) => ({
        items: (await admin.sessions.sessions(params.id)).map((s) => ({
          id: s.id,
          client_ids: s.clientIds,
          auth_time: s.authTime,
          created_at: iso(s.createdAt) ?? '',
          expires_at: iso(s.expiresAt),
          ip: s.ip,
          user_agent: s.userAgent,
          device: s.device,
          last_seen_at: iso(s.lastSeenAt),
          persistent: !s.transient,
        })),
      }),
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:id/sessions',
      tag: 'sessions',
      scope: 'admin:write',
      summary: 'Sign the user out everywhere: every session, grant and token',
      params: idParams,
      status: 204,
      handler: async ({ params, actor }) => {
        await admin.sessions.endAll(params.id, actor);
        return undefined;
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:id/sessions/:session',
      tag: 'sessions',
      scope: 'admin:write',
      summary: 'End one session and revoke the grants and refresh tokens made in it',
      params: idParams.extend({ session: z.string().min(1).max(255) }),
      status: 204,
      handler: async ({ params, actor }) => {
        await admin.sessions.endSession(params.id, params.session, actor);
        return undefined;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/users/:id/grants',
      tag: 'sessions',
      scope: 'admin:read',
      summary: "A user's live grants (consents and the tokens under them)",
      params: idParams,
      status: 200,
      response: z.object({ items: z.array(grantView) }),
      handler: async ({ params }) => ({
        items: (await admin.sessions.grants(params.id)).map((g) => ({
          id: g.id,
          client_id: g.clientId,
          scope: g.scope,
          created_at: iso(g.createdAt) ?? '',
        })),
      }),
    }),
    defineRoute({
      method: 'delete',
      path: '/users/:id/grants/:grant',
      tag: 'sessions',
      scope: 'admin:write',
      summary: 'Revoke one grant and every token issued under it',
      params: idParams.extend({ grant: z.string().min(1).max(255) }),
      status: 204,
      handler: async ({ params, actor }) => {
        await admin.sessions.revokeGrant(params.id, params.grant, actor);
        return undefined;
      },
    }),
  ];
}
