import { randomBytes } from 'node:crypto';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import type { TestServer } from '../../helpers/server.js';
import { discoverRp } from '../../helpers/rp.js';
import { jwsHeader, signIn } from '../../helpers/tokens.js';
import {
  adminCaller,
  allPages,
  api,
  apiAs,
  expectFieldError,
  expectStatus,
  forgedCursor,
  type ApiCall,
  startAdminApi,
} from '../../helpers/admin-api.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';

interface KeyBody {
  kid: string;
  alg: string;
  state: 'active' | 'retired';
  public_jwk: Record<string, unknown> | null;
}

interface EventBody {
  id: string;
  action: string;
  actor_id: string | null;
  subject_id: string | null;
  client_id: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  created_at: string;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** /admin/api/v1/keys and /audit-events. */
describe.each(HTTP_BACKENDS)('admin API keys and audit events (%s)', (backend) => {
  let server: TestServer;
  let call: ApiCall;
  let machineClientId: string;
  beforeAll(async () => {
    ({ server, call, clientId: machineClientId } = await startAdminApi(backend));
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
  });

  const keys = async () => expectStatus(await call<{ items: KeyBody[] }>('GET', '/keys'), 200).items;
  const publishedKids = async () => {
    const response = await fetch(`${server.issuer}/jwks`);
    const jwks = (await response.json()) as { keys: Array<Record<string, unknown>> };
    return jwks.keys.map((k) => k.kid);
  };
  const events = async (query: string) =>
    expectStatus(await call<{ items: EventBody[]; next_cursor: string | null }>('GET', `/audit-events?${query}`), 200);
  const roleName = () => `audited-${randomBytes(4).toString('hex')}`;

  describe('keys', () => {
    it('lists the signing keys with their public parts only', async () => {
      const listed = await keys();
      expect(
        listed
          .filter((k) => k.state === 'active')
          .map((k) => k.alg)
          .sort(),
      ).toEqual(['ES256', 'RS256']);
      for (const key of listed) {
        expect(key.public_jwk).toMatchObject({ kty: expect.any(String), kid: key.kid });
        for (const member of PRIVATE_MEMBERS) expect(key.public_jwk).not.toHaveProperty(member);
      }
      expect(JSON.stringify(listed)).not.toMatch(/"d":/);
      expect(await publishedKids()).toEqual(
        expect.arrayContaining(listed.filter((k) => k.state === 'active').map((k) => k.kid)),
      );
    });

    it('rotates: the new keys are published and sign new ID tokens; the old ones stay published, retired', async () => {
      const before = (await keys()).filter((k) => k.state === 'active').map((k) => k.kid);
      const rotated = expectStatus(await call<{ active: string[] }>('POST', '/keys/rotate'), 200);
      expect(rotated.active).toHaveLength(2);
      expect(rotated.active.some((kid) => before.includes(kid))).toBe(false);

      const after = await keys();
      expect(
        after
          .filter((k) => k.state === 'active')
          .map((k) => k.kid)
          .sort(),
      ).toEqual([...rotated.active].sort());
      const retired = after.filter((k) => before.includes(k.kid)) as Array<
        KeyBody & { retired_at: string | null; published_until: string | null }
      >;
      expect(retired.map((k) => k.state)).toEqual(['retired', 'retired']);
      for (const key of retired) {
        expect(Date.parse(key.retired_at ?? '')).toBeLessThanOrEqual(Date.now());
        expect(Date.parse(key.published_until ?? '')).toBeGreaterThan(Date.now());
      }
      expect(await publishedKids()).toEqual(expect.arrayContaining([...rotated.active, ...before]));

      const client = await server.buildClient();
      const { tokens } = await signIn(server, { client, rp: await discoverRp(server.issuer, client) });
      const header = jwsHeader(tokens.id_token);
      expect(header.alg).toBe('ES256');
      expect(rotated.active).toContain(header.kid);
    });
  });

  describe('audit events', () => {
    it('records each admin action with the machine client and the request id of the call that made it', async () => {
      const name = roleName();
      const created = await call<{ name: string }>('POST', '/roles', { name });
      expect(created.status).toBe(201);
      const requestId = created.headers.get('x-request-id');
      expect(requestId).toEqual(expect.any(String));

      const [event] = (await events(`action=role.created&client=${machineClientId}&limit=1`)).items;
      expect(event).toMatchObject({
        action: 'role.created',
        client_id: machineClientId,
        actor_id: null,
        request_id: requestId,
        details: { role: name },
      });

      // A caller-supplied request id (a load balancer's) is kept and recorded.
      const traced = `lb-${randomBytes(6).toString('hex')}`;
      const described = await call('PATCH', `/roles/${name}`, { description: 'traced' }, { 'x-request-id': traced });
      expect(described.headers.get('x-request-id')).toBe(traced);
      expect((await events(`action=role.updated&client=${machineClientId}&limit=1`)).items[0]).toMatchObject({
        request_id: traced,
        details: { role: name },
      });
    });

    it('gives every admin event of the machine client its client_id and the request id of its response', async () => {
      const requestIds = new Map<string, string>();
      const remember = (label: string, response: { headers: Headers; status: number }) => {
        expect(response.status).toBeLessThan(300);
        requestIds.set(label, response.headers.get('x-request-id') ?? '');
      };
      const client = await call<{ client_id: string }>('POST', '/clients', {
        name: 'Audited',
        redirect_uris: ['https://rp.example.test/cb'],
      });
      remember('client.created', client);
      remember('client.updated', await call('PATCH', `/clients/${client.body.client_id}`, { name: 'Audited too' }));
      remember('client.secret_rotated', await call('POST', `/clients/${client.body.client_id}/secret`));
      const user = await call<{ id: string }>('POST', '/users', {
        email: `audited-${randomBytes(4).toString('hex')}@example.test`,
      });
      remember('user.created', user);
      remember('user.disabled', await call('POST', `/users/${user.body.id}/disable`));
      remember('user.enabled', await call('POST', `/users/${user.body.id}/enable`));
      remember('user.updated', await call('PATCH', `/users/${user.body.id}`, { name: 'Audited' }));
      remember(
        'user.password_set',
        await call('PUT', `/users/${user.body.id}/password`, { password: 'an audited passphrase' }),
      );
      remember('mfa.reset', await call('POST', `/users/${user.body.id}/second-factors/reset`));
      const role = roleName();
      remember('role.created', await call('POST', '/roles', { name: role }));
      remember('role.assigned', await call('PUT', `/users/${user.body.id}/roles/${role}`));
      remember('role.unassigned', await call('DELETE', `/users/${user.body.id}/roles/${role}`));
      remember('role.deleted', await call('DELETE', `/roles/${role}`));
      remember('session.revoked', await call('DELETE', `/users/${user.body.id}/sessions`));
      const imported = `${JSON.stringify({ email: `imported-${randomBytes(4).toString('hex')}@example.test` })}\n`;
      remember(
        'users.imported',
        await call('POST', '/users/import', imported, { 'content-type': 'application/x-ndjson' }),
      );
      remember('user.deleted', await call('DELETE', `/users/${user.body.id}`));
      remember('client.deleted', await call('DELETE', `/clients/${client.body.client_id}`));

      const recent = (await events(`client=${machineClientId}&limit=200`)).items;
      for (const [action, requestId] of requestIds) {
        const event = recent.find((e) => e.action === action && e.request_id === requestId);
        expect({ action, event: event && { client_id: event.client_id, actor_id: event.actor_id } }).toEqual({
          action,
          event: { client_id: machineClientId, actor_id: null },
        });
      }
      expect(recent.every((e) => e.client_id === machineClientId)).toBe(true);
      expect(recent.find((e) => e.action === 'user.disabled')).toMatchObject({ subject_id: user.body.id });
    });

    it('filters by exact action and by prefix', async () => {
      const client = expectStatus(
        await call<{ client_id: string }>('POST', '/clients', {
          name: 'Filtered',
          redirect_uris: ['https://rp.example.test/cb'],
        }),
        201,
      );
      expectStatus(await call('PATCH', `/clients/${client.client_id}`, { name: 'Filtered again' }), 200);
      expectStatus(await call('POST', '/roles', { name: roleName() }), 201);

      const exact = (await events('action=client.created&limit=200')).items;
      expect(exact.length).toBeGreaterThan(0);
      expect(exact.every((e) => e.action === 'client.created')).toBe(true);
      expect(exact.some((e) => e.details.client === client.client_id)).toBe(true);

      const prefixed = (await events('action=client.&limit=200')).items;
      expect(prefixed.every((e) => e.action.startsWith('client.'))).toBe(true);
      expect(prefixed.map((e) => e.action)).toEqual(expect.arrayContaining(['client.created', 'client.updated']));
      // A prefix matches whole dotted segments only: 'role.' is not 'client.'.
      expect((await events('action=role.&limit=200')).items.every((e) => e.action.startsWith('role.'))).toBe(true);
    });

    it("filters by client: another admin client's events are not in it", async () => {
      const other = await adminCaller(server);
      const name = roleName();
      expectStatus(await apiAs(server, other.token)('POST', '/roles', { name }), 201);
      const mine = (await events(`client=${machineClientId}&limit=200`)).items;
      expect(mine.some((e) => e.details.role === name)).toBe(false);
      const theirs = (await events(`client=${other.clientId}`)).items;
      expect(theirs.map((e) => [e.action, e.details.role, e.client_id])).toEqual([
        ['role.created', name, other.clientId],
      ]);
    });

    it('filters by time with from and to', async () => {
      const start = new Date(Date.now() - 1000).toISOString();
      const name = roleName();
      expectStatus(await call('POST', '/roles', { name }), 201);
      const end = new Date(Date.now() + 1000).toISOString();

      const within = (await events(`action=role.created&from=${start}&to=${end}`)).items;
      expect(within.map((e) => e.details.role)).toContain(name);
      expect(within.every((e) => e.created_at >= start && e.created_at <= end)).toBe(true);
      expect((await events(`action=role.created&from=${end}`)).items).toEqual([]);
      expect((await events(`action=role.created&to=${start}`)).items.map((e) => e.details.role)).not.toContain(name);
    });

    it('includes an event in from and to equal to its own created_at', async () => {
      const name = roleName();
      expectStatus(await call('POST', '/roles', { name }), 201);
      const [event] = (await events(`action=role.created&client=${machineClientId}&limit=1`)).items;
      expect(event?.details.role).toBe(name);
      const at = encodeURIComponent(event!.created_at);
      expect((await events(`from=${at}&to=${at}&client=${machineClientId}`)).items.map((e) => e.id)).toContain(
        event!.id,
      );
    });

    it('pages newest first with next_cursor, every event once', async () => {
      const caller = await adminCaller(server);
      const own = apiAs(server, caller.token);
      const names: string[] = [];
      for (let i = 0; i < 7; i++) {
        names.push(roleName());
        expectStatus(await own('POST', '/roles', { name: names[i] }), 201);
      }
      const pages = await allPages<EventBody>(call, `/audit-events?client=${caller.clientId}&limit=3`);
      expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1]);
      expect(pages.flatMap((p) => p.items.map((e) => e.details.role))).toEqual([...names].reverse());
    });

    it('pages through events recorded in the same transaction (one timestamp, to the microsecond)', async () => {
      const clientId = `batch-${randomBytes(4).toString('hex')}`;
      await server.gatehouse.storage.storage.transaction(async (tx) => {
        for (let i = 0; i < 7; i++) await tx.audit.record({ action: 'role.created', clientId, details: { n: i } });
      });
      const pages = await allPages<EventBody>(call, `/audit-events?client=${clientId}&limit=3`);
      expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1]);
      expect(pages.flatMap((p) => p.items.map((e) => e.details.n)).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    });

    it('refuses a bad from, action or cursor with 400 naming the field', async () => {
      expectFieldError(await call('GET', '/audit-events?from=yesterday'), 'from');
      expectFieldError(await call('GET', '/audit-events?to=2026-13-01T00:00:00Z'), 'to');
      expectFieldError(await call('GET', '/audit-events?action=DROP%20TABLE'), 'action');
      expectFieldError(await call('GET', '/audit-events?actor=not-a-uuid'), 'actor');
      expectFieldError(await call('GET', '/audit-events?cursor=%%%'), 'cursor');
      expectFieldError(await call('GET', `/audit-events?cursor=${forgedCursor('not-a-uuid')}`), 'cursor');
      expectFieldError(await call('GET', '/audit-events?client=a%00b'), 'client');
    });
  });

  describe('activity', () => {
    interface ActivityBody {
      unit: string;
      buckets: string[];
      sign_ins: { success: number[]; failure: number[] };
      lockouts: number[];
      token_requests: { clients: Array<{ client_id: string; name: string | null; requests: number }>; total: number };
    }

    it("gives the dashboard's figures: seeded lockouts in their hour, a real token request under its client", async () => {
      // Two lockouts five hours ago, a minute into that hour.
      const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 5 * 3_600_000;
      await server.gatehouse.storage.storage.dataSource.query(
        `INSERT INTO audit_events (action, details, created_at) VALUES ('signin.locked_out', '{}', $1), ('signin.locked_out', '{}', $1)`,
        [new Date(hour + 60_000)],
      );
      // A new machine client gets one token; the tally is written at once instead of within the minute.
      const caller = await adminCaller(server);
      await server.gatehouse.tokenRequestsFlushed();

      const body = expectStatus(await call<ActivityBody>('GET', '/activity?range=24h'), 200);
      expect(body.unit).toBe('hour');
      expect(body.buckets).toHaveLength(24);
      expect(body.sign_ins.success).toHaveLength(24);
      const index = body.buckets.indexOf(new Date(hour).toISOString());
      expect(index).toBeGreaterThanOrEqual(0);
      expect(body.lockouts[index]).toBe(2);
      expect(body.lockouts.reduce((a, b) => a + b, 0)).toBe(2);
      expect(body.token_requests.clients).toContainEqual({
        client_id: caller.clientId,
        name: 'Ops automation',
        requests: 1,
      });
      // The default range is 7 days.
      expect(expectStatus(await call<ActivityBody>('GET', '/activity'), 200).buckets).toHaveLength(7);
    });

    it('refuses a bad range or an unknown parameter with 400 naming it', async () => {
      expectFieldError(await call('GET', '/activity?range=1y'), 'range');
      expectFieldError(await call('GET', '/activity?range=24h&range=7d'), 'range');
      expectFieldError(await call('GET', '/activity?since=yesterday'), 'since');
      expect((await api(server, null, 'GET', '/activity')).status).toBe(401);
    });
  });
});
