import { z } from 'zod';
import { UUID } from '../../storage/ids.js';
import type { AuditEventRow } from '../../storage/entities/audit-event.entity.js';
import type { AdminServices } from '../services.js';
import { decodeCursor, encodeCursor, iso, pageOf, timestamp } from './common.js';
import { defineRoute } from './route.js';

const eventView = z.object({
  id: z.string(),
  action: z.string(),
  actor_id: z.string().nullable(),
  subject_id: z.string().nullable(),
  client_id: z.string().nullable(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  request_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  created_at: timestamp,
});

const viewEvent = (e: AuditEventRow): z.input<typeof eventView> => ({
  id: e.id,
  action: e.action,
  actor_id: e.actorId,
  subject_id: e.subjectId,
  client_id: e.clientId,
  ip: e.ip,
  user_agent: e.userAgent,
  request_id: e.requestId,
  details: e.details,
  created_at: iso(e.createdAt) ?? '',
});

const uuid = z.string().regex(UUID, 'must be a user id (uuid)');
const dateTime = z.iso.datetime({ offset: true }).describe('RFC 3339 date-time');

export function auditRoutes(admin: AdminServices) {
  return [
    defineRoute({
      method: 'get',
      path: '/audit-events',
      tag: 'audit',
      scope: 'admin:read',
      summary: 'Audit events, newest first, filtered by actor, subject, client, action and time',
      query: z.strictObject({
        actor: uuid.optional().describe('The user who acted.'),
        subject: uuid.optional().describe('The user acted upon.'),
        client: z
          .string()
          .max(255)
          .regex(/^[^\u0000]*$/, 'must not contain U+0000')
          .optional(),
        action: z
          .string()
          .max(64)
          .regex(/^[a-z_.]+$/, 'must be an action name or a prefix ending in "."')
          .optional(),
        from: dateTime.optional(),
        to: dateTime.optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: z.string().max(400).optional(),
      }),
      status: 200,
      response: pageOf(eventView),
      async handler({ query }) {
        const events = await admin.audit.query({
          actorId: query.actor,
          subjectId: query.subject,
          clientId: query.client,
          action: query.action,
          from: query.from ? new Date(query.from) : undefined,
          to: query.to ? new Date(query.to) : undefined,
          before: decodeCursor(query.cursor, 'uuid'),
          limit: query.limit + 1,
        });
        const items = events.slice(0, query.limit);
        const last = items[items.length - 1];
        return {
          items: items.map(viewEvent),
          next_cursor: events.length > query.limit && last ? encodeCursor(last) : null,
        };
      },
    }),
  ];
}
