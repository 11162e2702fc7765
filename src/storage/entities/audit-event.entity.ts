import { EntitySchema } from 'typeorm';

/**
 * A security event: who did it (actor), to whose account (subject), what, from where.
 * `details` never holds secrets, codes or tokens.
 */
export interface AuditEventRow {
  id: string;
  actorId: string | null;
  subjectId: string | null;
  /** The OAuth client the event happened through (the admin's token, the signing-in app). */
  clientId: string | null;
  action: string;
  ip: string | null;
  userAgent: string | null;
  /** The X-Request-Id of the request, to join the event with the logs. */
  requestId: string | null;
  details: Record<string, unknown>;
  createdAt: Date;
}

export const AuditEventEntity = new EntitySchema<AuditEventRow>({
  name: 'AuditEvent',
  tableName: 'audit_events',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    actorId: { name: 'actor_id', type: 'uuid', nullable: true },
    subjectId: { name: 'subject_id', type: 'uuid', nullable: true },
    clientId: { name: 'client_id', type: 'varchar', length: 255, nullable: true },
    action: { type: 'varchar', length: 64 },
    ip: { type: 'varchar', length: 64, nullable: true },
    userAgent: { name: 'user_agent', type: 'varchar', length: 512, nullable: true },
    requestId: { name: 'request_id', type: 'varchar', length: 64, nullable: true },
    details: { type: 'jsonb', default: () => "'{}'" },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
  indices: [
    { name: 'audit_events_subject_time', columns: ['subjectId', 'createdAt'] },
    { name: 'audit_events_action_time', columns: ['action', 'createdAt'] },
    { name: 'audit_events_time', columns: ['createdAt'] },
    { name: 'audit_events_actor_time', columns: ['actorId', 'createdAt'] },
    { name: 'audit_events_client_time', columns: ['clientId', 'createdAt'] },
  ],
});
