import { randomBytes, randomUUID } from 'node:crypto';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { textOf } from '../../helpers/sessions.js';
import { cli, json } from '../../helpers/cli.js';
import { postForm, useSignedInConsole } from './support.js';

/** The audit row of one event, by action and something it must contain. */
const eventRow = (html: string, action: string, containing: string) =>
  [...html.matchAll(/<tr data-event="([^"]+)">([\s\S]*?)<\/tr>/g)].find(
    (m) => m[1] === action && m[2]?.includes(containing),
  )?.[2] ?? '';
const cell = (row: string, name: string) =>
  new RegExp(`<td data-label="[^"]+" data-${name}>([\\s\\S]*?)</td>`).exec(row)?.[1]?.trim() ?? '';

describe.each(HTTP_BACKENDS)('admin console: roles, audit log, signing keys (%s)', (backend) => {
  const signedIn = useSignedInConsole(backend);
  const server = () => signedIn.server;
  const storage = () => server().gatehouse.storage.storage;

  it('creates a role, refuses a duplicate or bad name on the form, edits and deletes it; the admin role stays', async () => {
    const { ua, page } = signedIn;
    const created = await postForm(ua, page, '/admin/roles', { name: 'auditor', description: 'Reads the logs' });
    expect(created.status).toBe(303);
    expect(created.location).toBe(`${server().issuer}/admin/roles/auditor?done=role-created`);
    const duplicate = await postForm(ua, page, '/admin/roles', { name: 'auditor', description: 'again' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.html).toMatch(/id="f-name-error">a role named &#34;auditor&#34; exists/);
    expect(duplicate.html).toContain('value="again"');
    const bad = await postForm(ua, page, '/admin/roles', { name: 'has space' });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/id="f-name-error">/);

    expect((await postForm(ua, page, '/admin/roles/auditor', { description: 'Reads the audit log' })).status).toBe(303);
    const shown = await ua.get('/admin/roles/auditor');
    expect(shown.html).toContain('value="Reads the audit log"');
    expect((await postForm(ua, page, '/admin/roles/auditor/delete', { confirm: '1' })).status).toBe(303);
    expect((await storage().roles.list()).map((r) => r.name)).not.toContain('auditor');

    const adminRole = await postForm(ua, page, '/admin/roles/admin/delete', { confirm: '1' });
    expect(adminRole.status).toBe(400);
    expect(adminRole.html).toContain('the admin role cannot be deleted');
    expect((await ua.get('/admin/roles/nope')).status).toBe(404);
  });

  it('filters the audit log by actor email, action prefix, client and time, and pages back in time', async () => {
    const { ua, page, admin } = signedIn;
    for (let i = 0; i < 52; i++) await postForm(ua, page, '/admin/roles', { name: `bulk-${i}` });
    const byActor = await ua.get(
      `/admin/audit?${new URLSearchParams({ actor: admin.email, action: 'role.', client: 'gatehouse-admin' })}`,
    );
    expect(byActor.status).toBe(200);
    const actions = [...byActor.html.matchAll(/<tr data-event="([^"]+)">/g)].map((m) => m[1]);
    expect(actions).toHaveLength(50);
    expect(new Set(actions)).toEqual(new Set(['role.created']));
    const older = /href="([^"]+)" rel="next" data-older/.exec(byActor.html)?.[1]?.replace(/&amp;/g, '&');
    expect(older).toContain('before=');
    const second = await ua.get(older ?? '');
    const rest = [...second.html.matchAll(/<tr data-event="([^"]+)">/g)].map((m) => m[1]);
    // 52 bulk roles, and the one of the test before when it ran first on this server.
    expect(rest.length).toBeGreaterThanOrEqual(2);
    expect(rest.every((a) => a?.startsWith('role.'))).toBe(true);

    const future = await ua.get('/admin/audit?from=2999-01-01T00:00');
    expect(future.html).toContain('No events.');
    const bad = await ua.get(
      `/admin/audit?${new URLSearchParams({ actor: 'nobody@example.test', from: 'yesterday' })}`,
    );
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/id="f-actor-error">no user has this id or email address/);
    expect(bad.html).toMatch(/id="f-from-error">/);
    expect(bad.html).toContain('value="yesterday"');
  });

  it("names people and clients in the audit log, with the full id on hover, details as labelled fields, and the CLI's operator", async () => {
    const { ua, page, admin } = signedIn;
    const user = await server().buildUser();
    const made = json<{ client_id: string }>(
      await cli(
        server(),
        'clients',
        'create',
        '--name',
        'Audit Shop',
        '--redirect-uri',
        'https://shop.example/cb',
        '--json',
      ),
    );
    expect((await cli(server(), 'users', 'disable', '--email', user.email)).code).toBe(0);
    expect(
      (
        await postForm(ua, page, `/admin/clients/${made.client_id}`, {
          name: 'Audit Shop',
          redirect_uris: 'https://shop.example/cb',
          post_logout_redirect_uris: '',
          client_type: 'confidential',
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['authorization_code'],
          scope: ['openid'],
          id_token_signed_response_alg: 'ES256',
          mfa: 'optional',
        })
      ).status,
    ).toBe(303);

    const audit = await ua.get('/admin/audit');
    expect(audit.status).toBe(200);
    // The CLI's change: its operator as the actor, the client by name (id on hover) in a labelled field.
    const created = eventRow(audit.html, 'client.created', made.client_id);
    expect(cell(created, 'actor')).toMatch(/^<span data-party>gatehouse-cli \(.+\)<\/span>$/);
    expect(created).toMatch(/<dl class="event-details" data-details>/);
    expect(created).toContain(
      `<dt>Client</dt><dd><a href="/admin/clients/${made.client_id}" title="${made.client_id}" data-party>Audit Shop</a></dd>`,
    );
    expect(created).toMatch(/<dt>Name<\/dt><dd>Audit Shop<\/dd>/);
    expect(created).not.toContain('{&#34;');
    // The user the CLI disabled, by email, the full id on hover.
    const disabled = eventRow(audit.html, 'user.disabled', user.id);
    expect(cell(disabled, 'subject')).toBe(
      `<a href="/admin/users/${user.id}" title="${user.id}" data-party>${user.email}</a>`,
    );
    expect(cell(disabled, 'actor')).toContain('gatehouse-cli (');
    // The console's change: the admin by email, the console client by name, the fields listed.
    const updated = eventRow(audit.html, 'client.updated', made.client_id);
    expect(cell(updated, 'actor')).toBe(
      `<a href="/admin/users/${admin.id}" title="${admin.id}" data-party>${admin.email}</a>`,
    );
    expect(cell(updated, 'client')).toMatch(/title="gatehouse-admin" data-party>[^<]+</);
    expect(updated).toMatch(/<dt>Fields changed<\/dt><dd>[a-zA-Z, ]*name[a-zA-Z, ]*<\/dd>/);
    // No 8-character prefixes are left.
    expect(audit.html).not.toContain(`>${user.id.slice(0, 8)}<`);

    // A deleted client keeps the name its events recorded.
    expect((await cli(server(), 'clients', 'delete', made.client_id)).code).toBe(0);
    const afterDelete = eventRow((await ua.get('/admin/audit')).html, 'client.deleted', made.client_id);
    expect(afterDelete).toContain(`title="${made.client_id}" data-party>Audit Shop (deleted)</span>`);
  });

  it('lists the signing keys and rotates them', async () => {
    const { ua } = signedIn;
    const before = await ua.get('/admin/keys');
    const activeKids = (html: string) => [...html.matchAll(/data-kid="([^"]+)" data-state="active"/g)].map((m) => m[1]);
    const old = activeKids(before.html);
    expect(old.length).toBeGreaterThan(0);
    const rotated = await postForm(ua, before, '/admin/keys/rotate');
    expect(rotated.status).toBe(303);
    const after = await ua.get(rotated.location ?? '');
    expect(textOf(after.html)).toContain('New signing keys were created');
    expect(activeKids(after.html).some((kid) => !old.includes(kid))).toBe(true);
    expect(after.html).toMatch(new RegExp(`data-kid="${old[0]}" data-state="retired"`));
  });

  it('defines an API resource and its permissions, grants them on the role and client pages, and refuses bad input beside the field', async () => {
    const { ua, page } = signedIn;
    const indicator = `https://orders-${randomBytes(3).toString('hex')}.example.test/`;
    const plain = await postForm(ua, page, '/admin/resources', { indicator: 'http://orders.example.test/', name: 'X' });
    expect(plain.status).toBe(400);
    expect(plain.html).toContain('id="f-indicator-error">must be an absolute https URL');
    expect(plain.html).toContain('value="http://orders.example.test/"');

    const created = await postForm(ua, page, '/admin/resources', {
      indicator,
      name: 'Orders',
      access_token_ttl: '600',
    });
    expect(created.status).toBe(303);
    const path = /\/admin\/resources\/[0-9a-f-]+/.exec(created.location ?? '')?.[0] ?? '';
    expect(path).not.toBe('');
    const spaced = await postForm(ua, page, `${path}/permissions`, { permission_name: 'orders read' });
    expect(spaced.status).toBe(400);
    expect(spaced.html).toMatch(/id="f-permission_name-error">must be a scope token/);
    expect(spaced.html).not.toContain('id="f-name-error"');
    for (const name of ['orders:read', 'orders:write'])
      expect((await postForm(ua, page, `${path}/permissions`, { permission_name: name })).status).toBe(303);
    const listed = await ua.get('/admin/resources');
    expect(listed.html).toContain(`data-resource="${indicator}"`);
    expect(listed.html).toMatch(/data-resource-permissions>orders:read orders:write</);

    const role = `orders-${randomBytes(3).toString('hex')}`;
    expect((await postForm(ua, page, '/admin/roles', { name: role })).status).toBe(303);
    const rolePage = await ua.get(`/admin/roles/${role}`);
    expect(rolePage.html).toContain(`<option value="${indicator} orders:read">orders:read on ${indicator}</option>`);
    const granted = await postForm(ua, page, `/admin/roles/${role}/permissions`, {
      permission: `${indicator} orders:read`,
    });
    expect(granted.status).toBe(303);
    expect((await ua.get(granted.location ?? '')).html).toContain(`data-permission="${indicator} orders:read"`);
    const garbled = await postForm(ua, page, `/admin/roles/${role}/permissions`, { permission: 'orders:read' });
    expect(garbled.status).toBe(400);
    expect(garbled.html).toContain('id="f-permission-error">choose a permission from the list');
    const admin = server().gatehouse.admin;
    expect(await admin.permissions.permissionsOf('role', role)).toEqual([
      { resource: indicator, permission: 'orders:read' },
    ]);
    expect(
      (await postForm(ua, page, `/admin/roles/${role}/permissions/revoke`, { permission: `${indicator} orders:read` }))
        .status,
    ).toBe(303);
    expect(await admin.permissions.permissionsOf('role', role)).toEqual([]);

    const machine = await server().buildClient({
      grantTypes: ['client_credentials'],
      redirectUris: [],
      scope: 'openid',
    });
    const clientGrant = await postForm(ua, page, `/admin/clients/${machine.clientId}/permissions`, {
      permission: `${indicator} orders:write`,
    });
    expect(clientGrant.status).toBe(303);
    expect((await ua.get(`/admin/clients/${machine.clientId}`)).html).toContain(
      `data-permission="${indicator} orders:write"`,
    );

    expect((await postForm(ua, page, `${path}/delete`, { confirm: '1' })).status).toBe(303);
    expect(await admin.permissions.permissionsOf('client', machine.clientId)).toEqual([]);
    expect((await ua.get(path)).status).toBe(404);
  });

  it('charts activity on the dashboard as SVG, each with its numbers in a table; a bad range is refused', async () => {
    const { ua } = signedIn;
    // Twenty days ago at noon (UTC), a day no other test of this server signs in on.
    const day = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 20 * 86_400_000 + 12 * 3_600_000);
    const { dataSource } = storage();
    await dataSource.query(`INSERT INTO clients (id, name, metadata) VALUES ('chart-rp', 'Chart RP', '{}')`);
    const seed = (action: string, subject: string | null, details: object, client: string | null = null) =>
      dataSource.query(
        'INSERT INTO audit_events (action, subject_id, client_id, details, created_at) VALUES ($1, $2, $3, $4, $5)',
        [action, subject, client, JSON.stringify(details), day],
      );
    for (const subject of [randomUUID(), randomUUID(), randomUUID()])
      await seed('signin.password.succeeded', subject, {});
    for (let i = 0; i < 2; i++) await seed('signin.password.failed', null, {});
    await seed('token.requests', null, { grant_type: 'client_credentials', count: 4 }, 'chart-rp');

    const page = await ua.get('/admin?range=30d');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<a href="/admin?range=30d" aria-current="page">Last 30 days</a>');
    // Six charts, each an SVG image named by its title and description, with a table behind it.
    const svgs = [
      ...page.html.matchAll(/<svg class="chart-svg" viewBox="0 0 400 \d+" role="img" aria-labelledby="([^"]+)"/g),
    ];
    expect(svgs).toHaveLength(6);
    expect(page.html).not.toMatch(/ style=/);
    const signIns = chartOf(page.html, 'signIns');
    expect(signIns).toContain('<title id="chart-signIns-title">Sign-ins per day, Last 30 days</title>');
    expect(signIns).toMatch(/<rect class="chart-s0" /);
    expect(signIns).toMatch(/<rect class="chart-s1" /);
    const label = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(day);
    expect(tableRow(signIns, label)).toEqual([label, '3', '2']);
    expect(tableRow(chartOf(page.html, 'methods'), label)).toEqual([label, '3', '0', '0', '0', '0', '0']);
    expect(tableRow(chartOf(page.html, 'activeUsers'), label)).toEqual([label, '3']);
    const tokens = chartOf(page.html, 'tokens');
    expect(tableRow(tokens, 'Chart RP')).toEqual(['Chart RP', '4']);
    expect(tokens).toMatch(/<text x="0" y="\d+">Chart RP<\/text><rect class="chart-s0"/);

    const bad = await ua.get('/admin?range=forever');
    expect(bad.status).toBe(400);
    expect(textOf(bad.html)).toContain('range');
  });
});

/** One chart's markup on the dashboard. */
function chartOf(html: string, key: string): string {
  return new RegExp(`<div class="chart" data-chart="${key}">([\\s\\S]*?)</details>`).exec(html)?.[1] ?? '';
}

/** The cells of the chart table's row headed `label`. */
function tableRow(chart: string, label: string): string[] {
  const row = [...chart.matchAll(/<tr><th scope="row"[^>]*>([^<]*)<\/th>([\s\S]*?)<\/tr>/g)].find(
    (m) => m[1] === label,
  );
  return row ? [row[1] ?? '', ...[...(row[2] ?? '').matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1] ?? '')] : [];
}
