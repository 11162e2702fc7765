import { LessThan, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { AuditEventEntity, type AuditEventRow } from './entities/audit-event.entity.js';
import { createdAtMillis } from './keyset.js';
import { runSql } from './data-source.js';

export type NewAuditEvent = Pick<AuditEventRow, 'action'> & Partial<Omit<AuditEventRow, 'id' | 'createdAt' | 'action'>>;

/** What the admin API filters audit events by; every field is optional. */
export interface AuditQuery {
  actorId?: string;
  subjectId?: string;
  clientId?: string;
  /** An exact action, or a prefix ending in '.' ("client." for every client event). */
  action?: string;
  /** Leaves out one exact action (the dashboard's latest changes leave out the token tally). */
  notAction?: string;
  from?: Date;
  to?: Date;
  /** Events strictly older than this one (newest first); from the previous page's cursor. */
  before?: { createdAt: Date; id: string };
  limit: number;
}

export function createAuditRepository(db: EntityManager) {
  const events = db.getRepository(AuditEventEntity);
  return {
    /** Nothing of the answer is read: in a transaction the insert travels with its next statement. */
    async record(event: NewAuditEvent): Promise<void> {
      await runSql(
        db,
        `INSERT INTO audit_events (action, actor_id, subject_id, client_id, ip, user_agent, request_id, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          event.action,
          event.actorId ?? null,
          event.subjectId ?? null,
          event.clientId?.slice(0, 255) ?? null,
          event.ip?.slice(0, 64) ?? null,
          event.userAgent?.slice(0, 512) ?? null,
          event.requestId?.slice(0, 64) ?? null,
          JSON.stringify(event.details ?? {}),
        ],
        { deferrable: true },
      );
    },
    /** The newest events about one account, for its security page. */
    forSubject: (subjectId: string, limit = 50) =>
      events.find({
        where: { subjectId },
        order: { createdAt: 'DESC' },
        take: limit,
      }),
    /** Newest first, keyset-paginated on (created_at, id) so pages stay stable while events arrive. */
    async query(filter: AuditQuery): Promise<AuditEventRow[]> {
      // On the millisecond, as the cursor holds it (keyset.ts): created_at has microseconds.
      const at = createdAtMillis('e');
      const qb = events.createQueryBuilder('e').orderBy(at, 'DESC').addOrderBy('e.id', 'DESC').take(filter.limit);
      const where: FindOptionsWhere<AuditEventRow> = {};
      if (filter.actorId) where.actorId = filter.actorId;
      if (filter.subjectId) where.subjectId = filter.subjectId;
      if (filter.clientId) where.clientId = filter.clientId;
      if (filter.action && !filter.action.endsWith('.')) where.action = filter.action;
      qb.where(where);
      // Bounds are inclusive to the millisecond the API shows, so to=<an event's created_at> keeps it.
      if (filter.from) qb.andWhere(`${at} >= :from`, { from: filter.from });
      if (filter.to) qb.andWhere(`${at} <= :to`, { to: filter.to });
      if (filter.notAction) qb.andWhere('e.action <> :notAction', { notAction: filter.notAction });
      if (filter.action?.endsWith('.')) {
        qb.andWhere("e.action LIKE :prefix ESCAPE '\\'", { prefix: `${filter.action.replace(/[\\%_]/g, '\\$&')}%` });
      }
      if (filter.before) {
        qb.andWhere(`(${at} < :at OR (${at} = :at AND e.id < :id))`, {
          at: filter.before.createdAt,
          id: filter.before.id,
        });
      }
      return qb.getMany();
    },
    /** Retention: deletes events older than `cutoff`; returns how many. */
    async deleteOlderThan(cutoff: Date): Promise<number> {
      const result = await events.delete({ createdAt: LessThan(cutoff) });
      return result.affected ?? 0;
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
