import { z } from 'zod';
import type { ExchangePolicyRow } from '../../storage/permissions.repository.js';
import type { AdminServices } from '../services.js';
import { idParams, iso, timestamp } from './common.js';
import { defineRoute } from './route.js';

const policyView = z.object({
  client_id: z.string(),
  targets: z.array(z.string()),
  subject_audiences: z.array(z.string()),
  subject_token_types: z.array(z.string()),
  updated_at: timestamp,
});
const viewPolicy = (p: ExchangePolicyRow): z.input<typeof policyView> => ({
  client_id: p.clientId,
  targets: p.targets,
  subject_audiences: p.subjectAudiences,
  subject_token_types: p.subjectTokenTypes,
  updated_at: iso(p.updatedAt) ?? '',
});

/** A client's RFC 8693 token exchange policy (docs/protocol.md, "Token exchange"). */
export function tokenExchangeRoutes(admin: AdminServices) {
  const { permissions } = admin;
  return [
    defineRoute({
      method: 'get',
      path: '/clients/:id/token-exchange',
      tag: 'resources',
      scope: 'admin:read',
      summary: "Read a client's token exchange policy",
      params: idParams,
      status: 200,
      response: policyView,
      handler: async ({ params }) => viewPolicy(await permissions.exchangePolicyOf(params.id)),
    }),
    defineRoute({
      method: 'put',
      path: '/clients/:id/token-exchange',
      tag: 'resources',
      scope: 'admin:write',
      summary: "Set a client's token exchange policy: the resources it may exchange for, and whose tokens",
      params: idParams,
      body: z.strictObject({
        targets: z.array(z.string().min(1).max(2000)).min(1).max(100).describe('Resource indicators.'),
        subject_audiences: z
          .array(z.string().min(1).max(2000))
          .max(100)
          .optional()
          .describe("Audiences of other clients' tokens this client may exchange (the APIs it is)."),
        subject_token_types: z.array(z.string().min(1).max(200)).max(10).optional(),
      }),
      status: 200,
      response: policyView,
      handler: async ({ params, body, actor }) =>
        viewPolicy(
          await permissions.setExchangePolicy(
            params.id,
            {
              targets: body.targets,
              subjectAudiences: body.subject_audiences,
              subjectTokenTypes: body.subject_token_types,
            },
            actor,
          ),
        ),
    }),
    defineRoute({
      method: 'delete',
      path: '/clients/:id/token-exchange',
      tag: 'resources',
      scope: 'admin:write',
      summary: "Remove a client's token exchange policy",
      params: idParams,
      status: 204,
      handler: async ({ params, actor }) => {
        await permissions.removeExchangePolicy(params.id, actor);
        return undefined;
      },
    }),
  ];
}
