import { z } from 'zod';
import type { AdminServices } from '../services.js';
import {
  ACCOUNT_SOURCES,
  RANGE_NAMES,
  SIGN_IN_METHODS,
  type ActivityReport,
  type ActivityRange,
} from '../activity.service.js';
import { timestamp } from './common.js';
import { defineRoute } from './route.js';

const perBucket = z.array(z.number().int()).describe('One number per bucket, in the order of `buckets`.');
const outcomes = z.object({ success: perBucket, failure: perBucket });

const activityView = z.object({
  range: z.enum(RANGE_NAMES as [ActivityRange, ...ActivityRange[]]),
  unit: z.enum(['hour', 'day']).describe('The size of each bucket (UTC hours or days).'),
  from: timestamp.describe('The start of the first bucket (inclusive).'),
  to: timestamp.describe('The end of the last bucket, the one in progress (exclusive).'),
  buckets: z.array(timestamp).describe("Each bucket's start."),
  sign_ins: outcomes.describe(
    'First steps of sign-in (password, passkey, emailed code or link, upstream identity provider).',
  ),
  methods: z
    .object(Object.fromEntries(SIGN_IN_METHODS.map((m) => [m, outcomes])) as Record<string, typeof outcomes>)
    .describe(
      'Every sign-in step by method, second factors included (totp; code: email or SMS; other: security key or recovery code).',
    ),
  active_users: z.object({
    per_bucket: perBucket.describe('Distinct people who signed in, per bucket.'),
    daily: z.number().int().describe('Distinct people who signed in in the 24 hours up to now.'),
    monthly: z.number().int().describe('Distinct people who signed in in the 30 days up to now.'),
  }),
  new_accounts: z
    .object(Object.fromEntries(ACCOUNT_SOURCES.map((s) => [s, perBucket])) as Record<string, typeof perBucket>)
    .describe('Accounts made, by how: sign-up, an admin, an upstream identity provider, an import.'),
  lockouts: perBucket.describe('Sign-in back-offs started after repeated failures.'),
  rate_limit_hits: perBucket.describe('Rate-limit windows exceeded (each key and window counts once).'),
  token_requests: z.object({
    clients: z
      .array(z.object({ client_id: z.string(), name: z.string().nullable(), requests: z.number().int() }))
      .describe('The ten clients that got the most tokens, most first; name is null for a deleted client.'),
    total: z.number().int().describe('Tokens issued to every client in the range.'),
  }),
});

const viewActivity = (r: ActivityReport): z.input<typeof activityView> => ({
  range: r.range,
  unit: r.unit,
  from: r.from.toISOString(),
  to: r.to.toISOString(),
  buckets: r.buckets.map((b) => b.toISOString()),
  sign_ins: r.signIns,
  methods: r.methods,
  active_users: { per_bucket: r.activeUsers.perBucket, daily: r.activeUsers.daily, monthly: r.activeUsers.monthly },
  new_accounts: r.newAccounts,
  lockouts: r.lockouts,
  rate_limit_hits: r.rateLimits,
  token_requests: {
    clients: r.tokenRequests.clients.map((c) => ({ client_id: c.clientId, name: c.name, requests: c.requests })),
    total: r.tokenRequests.total,
  },
});

export function activityRoutes(admin: AdminServices) {
  return [
    defineRoute({
      method: 'get',
      path: '/activity',
      tag: 'audit',
      scope: 'admin:read',
      summary: "The dashboard's figures over a range: sign-ins, methods, active users, new accounts, limits, tokens",
      query: z.strictObject({
        range: z
          .enum(RANGE_NAMES as [ActivityRange, ...ActivityRange[]])
          .default('7d')
          .describe('24h (hourly buckets), 7d or 30d (daily buckets), ending with the bucket in progress.'),
      }),
      status: 200,
      response: activityView,
      async handler({ query }) {
        return viewActivity(await admin.activity.report(query.range));
      },
    }),
  ];
}
