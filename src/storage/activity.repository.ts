import type { EntityManager } from 'typeorm';
import { runSql } from './data-source.js';

/** A time window cut into buckets of one hour or one day, in UTC. */
export interface ActivityWindow {
  unit: 'hour' | 'day';
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
}

/** How many events of one action (and one `details.method`) fell in one bucket. */
export interface ActionCount {
  bucket: Date;
  action: string;
  method: string | null;
  events: number;
  /** The sum of `details.imported` (a user import records one event for many accounts). */
  imported: number;
}

export interface ClientRequests {
  clientId: string;
  /** The client's registered name; null once the client is deleted. */
  name: string | null;
  requests: number;
}

/** A number in `details` as an integer, 0 when the key is absent or not a number. */
const detailNumber = (key: string) =>
  `CASE WHEN jsonb_typeof(details->'${key}') = 'number' THEN (details->>'${key}')::bigint ELSE 0 END`;

/**
 * The dashboard's figures from audit_events (src/admin/activity.service.ts says which actions
 * mean what): everything is grouped and counted here, in one statement per figure, so a 30-day
 * range costs a few index range scans (audit_events_action_time) rather than rows in memory.
 * Buckets are date_trunc in UTC.
 */
export function createActivityRepository(db: EntityManager) {
  return {
    /** Events of `actions` per bucket, action and details.method. */
    async countActions(window: ActivityWindow, actions: readonly string[]): Promise<ActionCount[]> {
      const { rows } = await runSql<ActionCount>(
        db,
        `SELECT date_trunc($1, created_at, 'UTC') AS bucket, action, details->>'method' AS method,
                count(*)::int AS events, sum(${detailNumber('imported')})::int AS imported
           FROM audit_events
          WHERE action = ANY($2) AND created_at >= $3 AND created_at < $4
          GROUP BY 1, 2, 3`,
        [window.unit, actions, window.from, window.to],
      );
      return rows;
    },

    /** Distinct subjects of `actions` per bucket. */
    async distinctSubjects(
      window: ActivityWindow,
      actions: readonly string[],
    ): Promise<Array<{ bucket: Date; users: number }>> {
      const { rows } = await runSql<{ bucket: Date; users: number }>(
        db,
        `SELECT date_trunc($1, created_at, 'UTC') AS bucket, count(DISTINCT subject_id)::int AS users
           FROM audit_events
          WHERE action = ANY($2) AND subject_id IS NOT NULL AND created_at >= $3 AND created_at < $4
          GROUP BY 1`,
        [window.unit, actions, window.from, window.to],
      );
      return rows;
    },

    /** Distinct subjects of `actions` since `recent` and since `from`, both until `to`. */
    async distinctSubjectsSince(
      actions: readonly string[],
      since: { recent: Date; from: Date; to: Date },
    ): Promise<{ recent: number; all: number }> {
      const { rows } = await runSql<{ recent: number; all: number }>(
        db,
        `SELECT count(DISTINCT subject_id) FILTER (WHERE created_at >= $2)::int AS recent,
                count(DISTINCT subject_id)::int AS "all"
           FROM audit_events
          WHERE action = ANY($1) AND subject_id IS NOT NULL AND created_at >= $3 AND created_at < $4`,
        [actions, since.recent, since.from, since.to],
      );
      return rows[0] ?? { recent: 0, all: 0 };
    },

    /**
     * The sum of details.count of `action` per client, the `limit` largest first (then by id),
     * with the sum over every client.
     */
    async sumPerClient(
      window: Pick<ActivityWindow, 'from' | 'to'>,
      action: string,
      limit: number,
    ): Promise<{ clients: ClientRequests[]; total: number }> {
      const { rows } = await runSql<{ client_id: string; name: string | null; requests: number; total: number }>(
        db,
        `SELECT e.client_id, c.name, sum(${detailNumber('count')})::int AS requests,
                (sum(sum(${detailNumber('count')})) OVER ())::int AS total
           FROM audit_events e LEFT JOIN clients c ON c.id = e.client_id
          WHERE e.action = $1 AND e.client_id IS NOT NULL AND e.created_at >= $2 AND e.created_at < $3
          GROUP BY e.client_id, c.name
          ORDER BY requests DESC, e.client_id
          LIMIT $4`,
        [action, window.from, window.to, limit],
      );
      return {
        clients: rows.map((row) => ({ clientId: row.client_id, name: row.name, requests: row.requests })),
        total: rows[0]?.total ?? 0,
      };
    },
  };
}

export type ActivityRepository = ReturnType<typeof createActivityRepository>;
