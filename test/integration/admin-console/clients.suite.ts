import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { textOf } from '../../helpers/sessions.js';
import { ADMIN_CONSOLE_CLIENT_ID } from '../../../src/clients/built-in-client.js';
import { postForm, signInAdmin, useSignedInConsole } from './support.js';

const secretOn = (html: string) =>
  /data-client-secret[^>]*value="([^"]+)"|value="([^"]+)"[^>]*data-client-secret/.exec(html)?.slice(1).find(Boolean);
const clientIdOn = (html: string) => /<code data-client-id>([^<]+)<\/code>/.exec(html)?.[1];

const NEW_CLIENT = {
  name: 'Console RP',
  redirect_uris: 'https://rp.example/callback\nhttps://rp.example/other',
  post_logout_redirect_uris: '',
  client_type: 'confidential',
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token'],
  scope: ['openid', 'profile', 'email'],
  id_token_signed_response_alg: 'ES256',
  mfa: 'optional',
};

describe.each(HTTP_BACKENDS)('admin console: clients (%s)', (backend) => {
  const signedIn = useSignedInConsole(backend);
  const server = () => signedIn.server;
  const clients = () => server().gatehouse.storage.storage.clients;

  it('creates a client with POST → 303 → GET: the secret shown once, a reload shows it no more and creates nothing', async () => {
    const { ua, page, admin } = signedIn;
    const form = await ua.get('/admin/clients/new/custom');
    expect(form.status).toBe(200);
    expect(form.html).toMatch(/<label for="f-name">/);
    const before = (await clients().list()).length;
    const created = await postForm(ua, page, '/admin/clients', NEW_CLIENT);
    expect(created.status).toBe(303);
    expect(created.html).not.toMatch(/data-client-secret/);
    expect(created.location).toMatch(/\/admin\/clients\/[A-Za-z0-9][\w-]+\/secret\/[\w-]{22}$/);

    const shown = await ua.get(created.location ?? '');
    expect(shown.status).toBe(200);
    expect(shown.headers.get('cache-control')).toBe('no-store');
    const secret = secretOn(shown.html);
    const id = clientIdOn(shown.html);
    expect(secret).toMatch(/^[\w-]{32,}$/);
    const row = await clients().find(id ?? '');
    expect(row?.name).toBe('Console RP');
    expect(row?.metadata.redirect_uris).toEqual(['https://rp.example/callback', 'https://rp.example/other']);
    expect(row?.secretHash).not.toContain(secret);

    // The reload: the same URL, no secret, a page that says why; still exactly one new client.
    const again = await ua.get(created.location ?? '');
    expect(again.status).toBe(410);
    expect(again.html).toContain('data-secret-already-shown');
    expect(again.html).not.toContain(secret);
    expect(secretOn(again.html)).toBeUndefined();
    expect((await clients().list()).length).toBe(before + 1);
    // Another admin's session cannot take a ticket either (it is bound to the session that made it).
    const other = await signInAdmin(server());
    const rotatedByOther = await postForm(other.ua, other.page, `/admin/clients/${id}/rotate-secret`);
    expect((await ua.get(rotatedByOther.location ?? '')).status).toBe(410);
    expect(secretOn((await other.ua.get(rotatedByOther.location ?? '')).html)).toMatch(/^[\w-]{32,}$/);

    const edit = await ua.get(`/admin/clients/${id}`);
    expect(edit.status).toBe(200);
    expect(edit.html).not.toContain(secret);
    expect(edit.html).toContain('https://rp.example/callback\nhttps://rp.example/other');
    const list = await ua.get('/admin/clients');
    expect(list.html).toContain(`data-client-id="${id}"`);
    expect(list.html).not.toContain(secret);

    const events = await server().gatehouse.storage.storage.audit.query({
      action: 'client.created',
      actorId: admin.id,
      limit: 5,
    });
    expect(events[0]?.clientId).toBe(ADMIN_CONSOLE_CLIENT_ID);
    expect(events[0]?.details).toMatchObject({ client: id });
  });

  it('shows a bad redirect URI next to its field, keeps what was typed, and creates nothing', async () => {
    const { ua, page } = signedIn;
    const before = (await clients().list()).length;
    const refused = await postForm(ua, page, '/admin/clients', {
      ...NEW_CLIENT,
      name: 'Typed name',
      redirect_uris: 'http://rp.example/callback',
    });
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/<p class="field-error" id="f-redirect_uris-error">[^<]*must use https/);
    expect(refused.html).toMatch(/id="f-redirect_uris"[^>]*aria-invalid="true"/);
    expect(refused.html).toContain('role="alert"');
    expect(refused.html).toContain('value="Typed name"');
    expect(refused.html).toContain('>http://rp.example/callback</textarea>');
    expect((await clients().list()).length).toBe(before);
  });

  it('sets what the consent page shows (logo, policy, terms); a bad logo URL is refused beside its field', async () => {
    const { ua, page } = signedIn;
    const client = await server().buildClient({ name: 'Branded' });
    const links = {
      logo_uri: 'https://rp.example/logo.png',
      policy_uri: 'https://rp.example/privacy',
      tos_uri: 'https://rp.example/terms',
    };
    expect((await postForm(ua, page, `/admin/clients/${client.clientId}`, { ...NEW_CLIENT, ...links })).status).toBe(
      303,
    );
    expect((await clients().find(client.clientId))?.metadata).toMatchObject(links);
    expect((await ua.get(`/admin/clients/${client.clientId}`)).html).toContain('value="https://rp.example/logo.png"');

    const refused = await postForm(ua, page, `/admin/clients/${client.clientId}`, {
      ...NEW_CLIENT,
      ...links,
      logo_uri: 'http://rp.example/logo.png',
    });
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/<p class="field-error" id="f-logo_uri-error">[^<]*must use https/);
    // Emptied, the fields are removed.
    expect((await postForm(ua, page, `/admin/clients/${client.clientId}`, NEW_CLIENT)).status).toBe(303);
    expect(Object.keys((await clients().find(client.clientId))?.metadata ?? {})).not.toContain('logo_uri');
  });

  it('edits a client, rotates its secret (shown once) and deletes it', async () => {
    const { ua, page } = signedIn;
    const client = await server().buildClient({ name: 'Before' });
    const saved = await postForm(ua, page, `/admin/clients/${client.clientId}`, {
      ...NEW_CLIENT,
      name: 'After',
      redirect_uris: 'https://after.example/cb',
    });
    expect(saved.status).toBe(303);
    expect(saved.location).toContain('done=client-saved');
    expect((await ua.get(saved.location ?? '')).html).toContain('The client was saved.');
    const row = await clients().find(client.clientId);
    expect(row?.name).toBe('After');
    expect(row?.metadata.redirect_uris).toEqual(['https://after.example/cb']);

    const rotated = await postForm(ua, page, `/admin/clients/${client.clientId}/rotate-secret`);
    expect(rotated.status).toBe(303);
    const secret = secretOn((await ua.get(rotated.location ?? '')).html);
    expect(secret).toBeDefined();
    expect(secretOn((await ua.get(rotated.location ?? '')).html)).toBeUndefined();
    expect(secret).not.toBe(client.clientSecret);
    expect((await clients().find(client.clientId))?.secretHash).not.toBe(row?.secretHash);

    const unconfirmed = await postForm(ua, page, `/admin/clients/${client.clientId}/delete`);
    expect(unconfirmed.status).toBe(400);
    expect(await clients().find(client.clientId)).not.toBeNull();
    const deleted = await postForm(ua, page, `/admin/clients/${client.clientId}/delete`, { confirm: '1' });
    expect(deleted.status).toBe(303);
    expect(await clients().find(client.clientId)).toBeNull();
    expect((await ua.get(`/admin/clients/${client.clientId}`)).status).toBe(404);
  });

  it("refuses to change Gatehouse's own clients", async () => {
    const { ua, page } = signedIn;
    const refused = await postForm(ua, page, `/admin/clients/${ADMIN_CONSOLE_CLIENT_ID}/delete`, { confirm: '1' });
    expect(refused.status).toBe(400);
    expect(textOf(refused.html)).toContain('cannot be changed');
    expect(await clients().find(ADMIN_CONSOLE_CLIENT_ID)).not.toBeNull();
  });

  it('lists a pending registration on the dashboard and the queue, and approves or rejects it', async () => {
    const { ua, page } = signedIn;
    const waiting = await server().buildClient({ name: 'Waiting RP' });
    const unwanted = await server().buildClient({ name: 'Unwanted RP' });
    await clients().update(waiting.clientId, { status: 'pending' });
    await clients().update(unwanted.clientId, { status: 'pending' });

    expect((await ua.get('/admin')).html).toMatch(/data-pending-count="2"/);
    const queue = await ua.get('/admin/clients/pending');
    expect(queue.html).toContain(`data-client-id="${waiting.clientId}"`);
    expect(queue.html).toContain('Approve Waiting RP');

    const approved = await postForm(ua, page, `/admin/clients/${waiting.clientId}/approve`);
    expect(approved.status).toBe(303);
    expect(approved.location).toBe(`${server().issuer}/admin/clients/pending?done=client-approved`);
    expect((await clients().find(waiting.clientId))?.status).toBe('active');
    const rejected = await postForm(ua, page, `/admin/clients/${unwanted.clientId}/reject`);
    expect(rejected.status).toBe(303);
    expect(await clients().find(unwanted.clientId)).toBeNull();
    const after = await ua.get('/admin/clients/pending?done=client-rejected');
    expect(after.html).toContain('data-pending-none');
    expect(after.html).toContain('The registration was rejected');
    // Approving again is refused: it is no longer waiting.
    expect((await postForm(ua, page, `/admin/clients/${waiting.clientId}/approve`)).status).toBe(400);
  });
});
