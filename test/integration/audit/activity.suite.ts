import { randomUUID } from 'node:crypto';
import { STORE_BACKENDS, BOOT_TIMEOUT } from '../../helpers/backends.js';
import { openTestStorage } from '../../helpers/storage.js';
import { createActivityService } from '../../../src/admin/activity.service.js';

/**
 * The dashboard's figures (src/admin/activity.service.ts) from audit events seeded at known
 * times: the SQL buckets, the mapping of actions to methods and the distinct active users,
 * on both stores (the grouping is PostgreSQL's and PGlite's own).
 */
const NOW = Date.UTC(2030, 0, 15, 10, 30);
const at = (iso: string) => new Date(`${iso}Z`);

/** A series of `length` zeros with the given values at their indexes. */
const series = (length: number, values: Record<number, number> = {}) =>
  Array.from({ length }, (_, i) => values[i] ?? 0);

describe.each(STORE_BACKENDS)('activity figures from the audit log (%s)', (backend) => {
  let opened: Awaited<ReturnType<typeof openTestStorage>>;
  // Seven people: a to d sign in in the charted hours, e the day before, f this month, g before.
  const [a, b, c, d, e, f, g] = Array.from('abcdefg', () => randomUUID());

  beforeAll(async () => {
    opened = await openTestStorage(backend);
    const events: Array<[string, string, string | null | undefined, Record<string, unknown>, string | null]> = [
      // The 09:00 hour.
      ['2030-01-15T09:10', 'signin.password.succeeded', a, {}, null],
      ['2030-01-15T09:11', 'signin.password.failed', null, { reason: 'wrong_password' }, null],
      ['2030-01-15T09:12', 'signin.mfa.succeeded', a, { method: 'totp' }, null],
      ['2030-01-15T09:13', 'signin.mfa.failed', a, { method: 'sms' }, null],
      ['2030-01-15T09:50', 'signin.passkey.succeeded', b, { method: 'passkey' }, null],
      ['2030-01-15T09:51', 'signin.email_code.succeeded', c, { method: 'magic_link' }, null],
      ['2030-01-15T09:52', 'signin.upstream.succeeded', d, { connection: 'x' }, null],
      ['2030-01-15T09:53', 'federation.failed', null, { reason: 'state_mismatch' }, null],
      ['2030-01-15T09:20', 'signup.registered', c, {}, null],
      ['2030-01-15T09:21', 'user.created', b, {}, null],
      ['2030-01-15T09:52', 'federation.account_created', d, {}, null],
      ['2030-01-15T09:00', 'token.requests', null, { grant_type: 'authorization_code', count: 3 }, 'activity-rp'],
      // The 10:00 hour, the current one.
      ['2030-01-15T10:05', 'signin.password.succeeded', a, {}, null],
      ['2030-01-15T10:06', 'signin.mfa.succeeded', a, { method: 'recovery_code' }, null],
      ['2030-01-15T10:07', 'signin.mfa.replayed', a, { method: 'totp' }, null],
      ['2030-01-15T10:10', 'signin.locked_out', a, { factor: 'password' }, null],
      ['2030-01-15T10:12', 'ratelimit.exceeded', null, { policy: 'signInIp' }, null],
      ['2030-01-15T10:13', 'ratelimit.exceeded', null, { policy: 'tokenClient' }, null],
      ['2030-01-15T10:00', 'users.imported', null, { imported: 5, rolesCreated: 0 }, null],
      ['2030-01-15T10:01', 'token.requests', null, { grant_type: 'refresh_token', count: 2 }, 'activity-rp'],
      ['2030-01-15T10:02', 'token.requests', null, { grant_type: 'client_credentials', count: 7 }, 'deleted-rp'],
      // Not counted: an action the dashboard does not read, and a sign-in after the current day.
      ['2030-01-15T10:15', 'client.updated', a, {}, null],
      ['2030-01-16T00:00', 'signin.password.succeeded', a, {}, null],
      // Before the 24-hour chart, within the last 24 hours (daily active), the last 30 days, or neither.
      ['2030-01-14T10:59', 'signin.password.succeeded', e, {}, null],
      ['2030-01-14T09:00', 'token.requests', null, { grant_type: 'authorization_code', count: 100 }, 'activity-rp'],
      ['2030-01-01T08:00', 'signin.passkey.succeeded', f, {}, null],
      ['2029-12-01T08:00', 'signin.password.succeeded', g, {}, null],
    ];
    const { dataSource } = opened.storage;
    await dataSource.query(`INSERT INTO clients (id, name, metadata) VALUES ('activity-rp', 'Activity RP', '{}')`);
    for (const [time, action, subject, details, client] of events) {
      await dataSource.query(
        'INSERT INTO audit_events (action, subject_id, client_id, details, created_at) VALUES ($1, $2, $3, $4, $5)',
        [action, subject ?? null, client, JSON.stringify(details), at(time)],
      );
    }
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await opened?.dispose();
  });

  const report = (range: '24h' | '7d') =>
    createActivityService({ activity: opened.storage.activity, now: () => NOW }).report(range);

  it('counts the last 24 hours per UTC hour: sign-ins, methods, active users, accounts, limits, tokens', async () => {
    const r = await report('24h');
    expect(r.unit).toBe('hour');
    expect(r.buckets).toHaveLength(24);
    expect(r.from.toISOString()).toBe('2030-01-14T11:00:00.000Z');
    expect(r.to.toISOString()).toBe('2030-01-15T11:00:00.000Z');
    // 09:00 is bucket 22, the current hour 10:00 is 23.
    expect(r.buckets[22]?.toISOString()).toBe('2030-01-15T09:00:00.000Z');
    expect(r.signIns).toEqual({ success: series(24, { 22: 4, 23: 1 }), failure: series(24, { 22: 2 }) });
    expect(r.methods).toEqual({
      password: { success: series(24, { 22: 1, 23: 1 }), failure: series(24, { 22: 1 }) },
      passkey: { success: series(24, { 22: 1 }), failure: series(24) },
      totp: { success: series(24, { 22: 1 }), failure: series(24, { 23: 1 }) },
      code: { success: series(24, { 22: 1 }), failure: series(24, { 22: 1 }) },
      upstream: { success: series(24, { 22: 1 }), failure: series(24, { 22: 1 }) },
      other: { success: series(24, { 23: 1 }), failure: series(24) },
    });
    expect(r.activeUsers).toEqual({ perBucket: series(24, { 22: 4, 23: 1 }), daily: 5, monthly: 6 });
    expect(r.newAccounts).toEqual({
      sign_up: series(24, { 22: 1 }),
      admin: series(24, { 22: 1 }),
      upstream: series(24, { 22: 1 }),
      import: series(24, { 23: 5 }),
    });
    expect(r.lockouts).toEqual(series(24, { 23: 1 }));
    expect(r.rateLimits).toEqual(series(24, { 23: 2 }));
    expect(r.tokenRequests).toEqual({
      clients: [
        { clientId: 'deleted-rp', name: null, requests: 7 },
        { clientId: 'activity-rp', name: 'Activity RP', requests: 5 },
      ],
      total: 12,
    });
  });

  it('counts 7 days per UTC day, the current day last', async () => {
    const r = await report('7d');
    expect(r.unit).toBe('day');
    expect(r.buckets.map((bucket) => bucket.toISOString().slice(0, 10))).toEqual([
      '2030-01-09',
      '2030-01-10',
      '2030-01-11',
      '2030-01-12',
      '2030-01-13',
      '2030-01-14',
      '2030-01-15',
    ]);
    expect(r.signIns.success).toEqual(series(7, { 5: 1, 6: 5 }));
    expect(r.activeUsers.perBucket).toEqual(series(7, { 5: 1, 6: 4 }));
    expect(r.tokenRequests.total).toBe(112);
    expect(r.tokenRequests.clients[0]).toEqual({ clientId: 'activity-rp', name: 'Activity RP', requests: 105 });
  });
});
