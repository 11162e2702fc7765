import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { cli, json } from '../../helpers/cli.js';
import { clientRow, initialAccessToken, register, str, webClient } from './support.js';

describe.each(HTTP_BACKENDS)('registration CLI (%s)', (backend) => {
  const server = useTestServer(backend, { registration: { enabled: true } });

  it('creates, lists and revokes initial access tokens', async () => {
    const created = await cli(
      server,
      'registration',
      'token',
      'create',
      '--note',
      'from the cli',
      '--ttl',
      '3600',
      '--json',
    );
    expect(created.code).toBe(0);
    const { token, id } = json<{ token: string; id: string; expires_at: string }>(created);
    expect((await register(server, webClient(), token)).status).toBe(201);

    const listed = await cli(server, 'registration', 'token', 'list', '--json');
    expect(json<Array<{ id: string; note: string }>>(listed)).toContainEqual(
      expect.objectContaining({ id, note: 'from the cli' }),
    );
    expect(listed.out.join('\n')).not.toContain(token);

    expect((await cli(server, 'registration', 'token', 'revoke', id)).code).toBe(0);
    expect((await register(server, webClient(), token)).status).toBe(401);
    expect((await cli(server, 'registration', 'token', 'revoke', id)).code).toBe(2);
    expect((await cli(server, 'registration', 'token', 'create', '--ttl', 'soon')).code).toBe(2);
  });

  it('lists, approves and rejects pending clients', async () => {
    const waiting = str(
      (await register(server, webClient({ client_name: 'Cli Pending' }), await initialAccessToken(server))).body
        .client_id,
    );
    const refused = str((await register(server, webClient(), await initialAccessToken(server))).body.client_id);

    const pending = json<Array<{ client_id: string; name: string }>>(await cli(server, 'clients', 'pending', '--json'));
    expect(pending).toContainEqual(expect.objectContaining({ client_id: waiting, name: 'Cli Pending' }));

    const approved = await cli(server, 'clients', 'approve', waiting);
    // The whole answer, so that a refusal says why.
    expect({ code: approved.code, err: approved.err }).toEqual({ code: 0, err: [] });
    expect((await clientRow(server, waiting))?.status).toBe('active');
    expect((await cli(server, 'clients', 'approve', waiting)).code).toBe(2);

    expect((await cli(server, 'clients', 'reject', refused)).code).toBe(0);
    expect(await clientRow(server, refused)).toBeNull();
    expect((await cli(server, 'clients', 'reject', 'no-such-client')).code).toBe(2);
  });
});
