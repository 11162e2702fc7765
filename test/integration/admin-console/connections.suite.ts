import { randomBytes } from 'node:crypto';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { TEST_ACTOR } from '../../helpers/factories.js';
import { runSql } from '../../../src/storage/data-source.js';
import { postForm, useSignedInConsole } from './support.js';

/** The console's Connections area and a user's linked identities (issue 17). */
const SECRET = `console-secret-${randomBytes(8).toString('hex')}`;

const corpForm = (id: string) => ({
  id,
  display_name: 'Corp SSO',
  preset: 'custom',
  kind: 'oidc',
  issuer: 'https://login.corp.example',
  client_id: 'gatehouse',
  client_secret: SECRET,
  enabled: '1',
  order: '2',
  allowed_email_domains: 'corp.example',
  role_rules: '',
  claim_groups: 'roles',
});

describe.each(HTTP_BACKENDS)('admin console: connections (%s)', (backend) => {
  const signedIn = useSignedInConsole(backend);
  const server = () => signedIn.server;
  const sealedSecret = async (id: string) =>
    (
      await runSql<{ secret_sealed: string | null }>(
        server().gatehouse.storage.storage.dataSource,
        'SELECT secret_sealed FROM connections WHERE id = $1',
        [id],
      )
    ).rows[0]?.secret_sealed;

  it('creates a connection through the form: listed, the secret sealed and never shown, the redirect URI to register shown', async () => {
    const { ua, page } = signedIn;
    const nav = await ua.get('/admin');
    expect(nav.html).toContain('href="/admin/connections">Connections</a>');
    const form = await ua.get('/admin/connections/new');
    expect(form.status).toBe(200);
    expect(form.html).toContain('<label for="f-issuer">');
    const created = await postForm(ua, page, '/admin/connections', corpForm('corp'));
    expect(created.status).toBe(303);
    expect(created.location).toBe(`${server().issuer}/admin/connections/corp?done=connection-created`);
    const shown = await ua.get(created.location ?? '');
    expect(shown.html).toContain(`data-redirect-uri>${server().issuer}/federation/corp/callback<`);
    expect(shown.html).toContain('data-has-secret>stored (never shown)');
    expect(shown.html).not.toContain(SECRET);
    expect(shown.html).toContain('value="roles"');
    const sealed = await sealedSecret('corp');
    expect(sealed).toBeTruthy();
    expect(sealed).not.toContain(SECRET);
    const stored = await server().gatehouse.admin.connections.get('corp');
    expect(stored).toMatchObject({ displayName: 'Corp SSO', order: 2, allowedEmailDomains: ['corp.example'] });
    expect(stored.claimMapping).toEqual({ groups: 'roles' });
    const list = await ua.get('/admin/connections');
    expect(list.html).toMatch(/data-connection-id="corp"[\s\S]*Corp SSO/);
  });

  it('keeps the stored secret when the field is left blank on edit, and replaces it when given', async () => {
    const { ua, page } = signedIn;
    await postForm(ua, page, '/admin/connections', corpForm('corp-edit'));
    const before = await sealedSecret('corp-edit');
    const { client_secret: _secret, ...withoutSecret } = corpForm('corp-edit');
    const saved = await postForm(ua, page, '/admin/connections/corp-edit', {
      ...withoutSecret,
      display_name: 'Corp SSO (renamed)',
      enabled: '',
    });
    expect(saved.status).toBe(303);
    expect(saved.location).toContain('done=connection-saved');
    expect(await sealedSecret('corp-edit')).toBe(before);
    const stored = await server().gatehouse.admin.connections.get('corp-edit');
    expect(stored).toMatchObject({ displayName: 'Corp SSO (renamed)', enabled: false, hasSecret: true });
    await postForm(ua, page, '/admin/connections/corp-edit', { ...withoutSecret, client_secret: 'another-secret' });
    expect(await sealedSecret('corp-edit')).not.toBe(before);
  });

  it('shows a refused value beside its field (400), keeps what was typed but never the secret, and creates nothing', async () => {
    const { ua, page } = signedIn;
    const refused = await postForm(ua, page, '/admin/connections', {
      ...corpForm('corp-bad'),
      issuer: 'http://login.corp.example',
    });
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('<p class="field-error" id="f-issuer-error">must be an https:// URL');
    expect(refused.html).toContain('aria-invalid="true"');
    expect(refused.html).toContain('value="Corp SSO"');
    expect(refused.html).not.toContain(SECRET);
    const badOption = await postForm(ua, page, '/admin/connections', { ...corpForm('corp-bad'), tenant: 'x' });
    expect(badOption.status).toBe(400);
    expect(badOption.html).toContain('id="f-tenant-error">is only for the microsoft preset');
    const badRule = await postForm(ua, page, '/admin/connections', { ...corpForm('corp-bad'), role_rules: 'nonsense' });
    expect(badRule.status).toBe(400);
    expect(badRule.html).toContain('id="f-role_rules-error">line 1 must be group:GROUP=ROLE');
    await expect(server().gatehouse.admin.connections.get('corp-bad')).rejects.toThrow(/not found/);
    // A taken id is a conflict, shown beside the id.
    await postForm(ua, page, '/admin/connections', corpForm('corp-taken'));
    const taken = await postForm(ua, page, '/admin/connections', corpForm('corp-taken'));
    expect(taken.status).toBe(409);
    expect(taken.html).toContain('id="f-id-error"');
  });

  it('deletes a connection only with the confirmation ticked', async () => {
    const { ua, page } = signedIn;
    await postForm(ua, page, '/admin/connections', corpForm('corp-gone'));
    const unconfirmed = await postForm(ua, page, '/admin/connections/corp-gone/delete', {});
    expect(unconfirmed.status).toBe(400);
    expect(await server().gatehouse.admin.connections.get('corp-gone')).toBeTruthy();
    const deleted = await postForm(ua, page, '/admin/connections/corp-gone/delete', { confirm: '1' });
    expect(deleted.status).toBe(303);
    expect(deleted.location).toContain('/admin/connections?done=connection-deleted');
    await expect(server().gatehouse.admin.connections.get('corp-gone')).rejects.toThrow(/not found/);
    expect((await ua.get('/admin/connections/corp-gone')).status).toBe(404);
  });

  it("shows a user's linked identities on their page and removes one (confirmed), audited", async () => {
    const { ua, page } = signedIn;
    await server().gatehouse.admin.connections.create(
      {
        id: 'corp-users',
        displayName: 'Corp Users',
        kind: 'oidc',
        issuer: 'https://corp.example',
        clientId: 'c',
        clientSecret: SECRET,
      },
      TEST_ACTOR,
    );
    const user = await server().buildUser();
    const identities = server().gatehouse.storage.storage.identities;
    await identities.link({ connectionId: 'corp-users', subject: 'sub-1', userId: user.id, email: 'ada@corp.example' });
    const userPage = await ua.get(`/admin/users/${user.id}`);
    expect(userPage.html).toMatch(/data-identity="corp-users"[\s\S]*Corp Users[\s\S]*ada@corp\.example/);
    const unconfirmed = await postForm(ua, page, `/admin/users/${user.id}/identities/corp-users/remove`, {});
    expect(unconfirmed.status).toBe(400);
    expect(await identities.listForUser(user.id)).toHaveLength(1);
    const removed = await postForm(ua, page, `/admin/users/${user.id}/identities/corp-users/remove`, { confirm: '1' });
    expect(removed.status).toBe(303);
    expect(removed.location).toContain(`/admin/users/${user.id}?done=identity-removed`);
    expect(await identities.listForUser(user.id)).toEqual([]);
    const events = await server().gatehouse.storage.storage.audit.forSubject(user.id, 5);
    expect(events.find((e) => e.action === 'federation.identity_unlinked')?.details).toMatchObject({ byAdmin: true });
    const missing = await postForm(ua, page, `/admin/users/${user.id}/identities/corp-users/remove`, { confirm: '1' });
    expect(missing.status).toBe(404);
  });
});
