import { z } from 'zod';
import type { AdminServices } from '../services.js';
import { defineRoute } from './route.js';

const subjectView = z.object({
  client_id: z.string(),
  subject_type: z.enum(['public', 'pairwise']),
  sub: z.string(),
  user_id: z.string(),
});

/** Pairwise subjects (OIDC Core §8.1) mapped to users and back. */
export function subjectRoutes(admin: AdminServices) {
  return [
    defineRoute({
      method: 'get',
      path: '/subjects',
      tag: 'users',
      scope: 'admin:read',
      summary: "The user a client's sub names (sub=…), or the sub a client sees for a user (user_id=…)",
      query: z.strictObject({
        client_id: z.string().min(1).max(255),
        sub: z.string().min(1).max(255).optional(),
        user_id: z.string().min(1).max(255).optional(),
      }),
      status: 200,
      response: subjectView,
      handler: async ({ query }) => {
        const found = await admin.subjects.resolve({
          clientId: query.client_id,
          sub: query.sub,
          userId: query.user_id,
        });
        return { client_id: found.clientId, subject_type: found.subjectType, sub: found.sub, user_id: found.userId };
      },
    }),
  ];
}
