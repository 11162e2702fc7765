import type { DataSource } from 'typeorm';
import { AuditEventEntity, type AuditEventRow } from './entities/audit-event.entity.js';

export type NewAuditEvent = Pick<AuditEventRow, 'action'> & Partial<Omit<AuditEventRow, 'id' | 'createdAt' | 'action'>>;

export function createAuditRepository(db: DataSource) {
  const events = db.getRepository(AuditEventEntity);
  return {
    async record(event: NewAuditEvent): Promise<void> {
      await events.save({
        action: event.action,
        actorId: event.actorId ?? null,
        subjectId: event.subjectId ?? null,
        ip: event.ip?.slice(0, 64) ?? null,
        userAgent: event.userAgent?.slice(0, 512) ?? null,
        details: event.details ?? {},
      });
    },
    /** The newest events about one account, for its security page. */
    forSubject: (subjectId: string, limit = 50) => events.find({
      where: { subjectId }, order: { createdAt: 'DESC' }, take: limit,
    }),
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
