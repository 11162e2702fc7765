import { z } from 'zod';
import type { AdminServices } from '../services.js';
import { iso, timestamp } from './common.js';
import { defineRoute } from './route.js';

const keyView = z.object({
  kid: z.string(),
  alg: z.string(),
  state: z.enum(['active', 'retired']),
  created_at: timestamp,
  retired_at: timestamp.nullable(),
  published_until: timestamp.nullable(),
  public_jwk: z.record(z.string(), z.unknown()).nullable(),
});

export function keyRoutes(admin: AdminServices) {
  return [
    defineRoute({
      method: 'get',
      path: '/keys',
      tag: 'keys',
      scope: 'admin:read',
      summary: 'Signing keys, newest first (public parts only)',
      status: 200,
      response: z.object({ items: z.array(keyView) }),
      handler: async () => ({
        items: (await admin.keys.list()).map((k) => ({
          kid: k.id,
          alg: k.alg,
          state: k.state,
          created_at: iso(k.createdAt) ?? '',
          retired_at: iso(k.retiredAt),
          published_until: iso(k.expiresAt),
          public_jwk: k.publicJwk,
        })),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/keys/rotate',
      tag: 'keys',
      scope: 'admin:write',
      summary:
        'New signing keys are published now and sign after keys.activationDelaySeconds; the old ones stay published until what they signed expires',
      status: 200,
      response: z.object({ active: z.array(z.string()) }),
      handler: async ({ actor }) => ({ active: await admin.keys.rotate(actor) }),
    }),
  ];
}
