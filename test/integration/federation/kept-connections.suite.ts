import type pg from 'pg';
import type { ConnectionInput } from '../../../src/federation/connection.js';
import { STORE_BACKENDS } from '../../helpers/backends.js';
import { TEST_ACTOR } from '../../helpers/factories.js';
import { startFlow } from '../../helpers/federated-sign-in.js';
import { BOOT_TIMEOUT, startTestServer, type TestServer } from '../../helpers/server.js';
import { submitLogin } from '../../helpers/sessions.js';
import { countStatements } from '../../helpers/statement-log.js';
import { announcement, otherWriter } from '../../helpers/storage.js';
import type { Page } from '../../helpers/user-agent.js';

/**
 * The connections every sign-in page offers and every password sign-in checks for home-realm
 * discovery, kept in memory by each server (docs/decisions.md, "Rows kept in memory"): read
 * once, then dropped when a change to any connection is announced, whoever made it.
 */
describe.each(STORE_BACKENDS)("the sign-in page's connections, kept in memory (%s)", (backend) => {
  let server: TestServer;
  let writer: pg.Client;
  let connectionStatements: ReturnType<typeof countStatements>;

  const connection = (id: string, overrides: Partial<ConnectionInput> = {}): ConnectionInput => ({
    id,
    displayName: `Upstream ${id}`,
    kind: 'oidc',
    issuer: `https://${id}.upstream.example.test`,
    clientId: id,
    clientSecret: 'upstream-secret',
    ...overrides,
  });
  const buttons = (page: Page) => [...page.html.matchAll(/data-connection="([^"]+)"/g)].map((m) => m[1]);
  /** A sign-in page, and the statements reading `connections` that showing it sent. */
  const signInPage = async () => {
    let flow: Awaited<ReturnType<typeof startFlow>> | undefined;
    const statements = await connectionStatements.during(async () => {
      flow = await startFlow(server);
    });
    if (!flow) throw new Error('no sign-in page');
    expect(flow.page.status).toBe(200);
    return { flow, statements, buttons: buttons(flow.page) };
  };
  const announced = (id: string) => announcement(server.gatehouse.storage.storage.changes, 'connections', id);

  beforeAll(async () => {
    server = await startTestServer(backend);
    const created = announced('kept-a');
    await server.gatehouse.admin.connections.create(connection('kept-a', { order: 1 }), TEST_ACTOR);
    // Our own INSERT is announced too: a list read before that announcement would be dropped by it.
    await created;
    connectionStatements = countStatements(server.gatehouse.storage.storage.dataSource, /\bFROM "connections"/);
    writer = otherWriter(backend, server.gatehouse.config);
    await writer.connect();
  }, BOOT_TIMEOUT);
  // The writer first: closing the server drops its database, which ends every session on it.
  afterAll(async () => {
    await writer?.end();
    await server?.close();
  });

  it('a warm sign-in page and a password sign-in read no connection from the database', async () => {
    const user = await server.buildUser();
    await signInPage();
    const warm = await signInPage();
    expect(warm).toMatchObject({ statements: 0, buttons: ['kept-a'] });
    let status = 0;
    const posted = await connectionStatements.during(async () => {
      status = (await submitLogin(warm.flow.ua, warm.flow.page, user.email, user.password)).status;
    });
    expect({ status, posted }).toEqual({ status: 303, posted: 0 });
  });

  it('our own change is on the next page, read from the database once', async () => {
    await server.gatehouse.admin.connections.update('kept-a', { displayName: 'Renamed here' }, TEST_ACTOR);
    const page = await signInPage();
    expect(page.statements).toBe(1);
    expect(page.flow.page.html).toContain('Continue with Renamed here');
  });

  it('a connection added and disabled on another connection shows and hides once announced', async () => {
    await signInPage();
    const added = announced('kept-b');
    await writer.query(
      `INSERT INTO connections (id, display_name, kind, preset, enabled, position, settings, secret_sealed)
       SELECT 'kept-b', 'Added elsewhere', kind, preset, enabled, 2, settings, secret_sealed FROM connections WHERE id = 'kept-a'`,
    );
    await added;
    expect((await signInPage()).buttons).toEqual(['kept-a', 'kept-b']);
    expect((await signInPage()).statements).toBe(0);

    const disabled = announced('kept-b');
    await writer.query(`UPDATE connections SET enabled = false WHERE id = 'kept-b'`);
    await disabled;
    expect((await signInPage()).buttons).toEqual(['kept-a']);
  });

  it('a change rolled back on another connection is never seen, and the list stays kept', async () => {
    await signInPage();
    const seen: string[] = [];
    const stop = server.gatehouse.storage.storage.changes.subscribe((event) => {
      if (event !== 'reset' && event.table === 'connections') seen.push(event.id);
    });
    await writer.query('BEGIN');
    await writer.query(`UPDATE connections SET enabled = true, display_name = 'Rolled back' WHERE id = 'kept-b'`);
    await writer.query('ROLLBACK');
    expect((await signInPage()).statements).toBe(0);
    // A committed change after it: had the rolled-back one been announced, it would have come first.
    const committed = announced('kept-a');
    await writer.query(`UPDATE connections SET position = 3 WHERE id = 'kept-a'`);
    await committed;
    stop();
    expect(seen).toEqual(['kept-a']);
    const page = await signInPage();
    expect({ buttons: page.buttons, statements: page.statements }).toEqual({ buttons: ['kept-a'], statements: 1 });
    expect(page.flow.page.html).not.toContain('Rolled back');
    expect((await signInPage()).statements).toBe(0);
  });
});
