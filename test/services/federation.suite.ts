import { randomBytes } from 'node:crypto';
import { FederationError } from '../../src/federation/errors.js';
import { federationRedirectUri, type FederationOutcome } from '../../src/federation/federation.service.js';
import type { ConnectionInput } from '../../src/federation/connection.js';
import { runSql } from '../../src/storage/data-source.js';
import { TEST_ACTOR, uniqueEmail } from '../helpers/factories.js';
import { useServices } from '../helpers/services.js';
import { startUpstreamOp, type UpstreamOp } from '../helpers/upstream-op.js';
import { startSocialUpstream, type SocialUpstream } from '../helpers/upstream-social.js';
import { followToCallback } from '../helpers/upstream-driver.js';

/**
 * The federation service end to end against real upstreams (a genuine OpenID provider and
 * GitHub's and Discord's API shapes), on real storage, without a browser: the upstream's
 * authorization step is driven over plain HTTP, and its callback handed to complete() as the
 * web layer will.
 */
const ISSUER = 'http://localhost:3000';
const SECRET = `upstream-secret-${randomBytes(8).toString('hex')}`;
const OP_CONNECTIONS = ['op-main', 'op-untrusted', 'op-closed', 'op-domain', 'op-clients', 'op-slow'];

describe('sign-in through upstream identity providers (federation service)', () => {
  const rig = useServices({ federation: { upstreamTimeoutMs: 500 } });
  let op: UpstreamOp;
  let social: SocialUpstream;

  const connection = (id: string, overrides: Partial<ConnectionInput> = {}): ConnectionInput => ({
    id,
    displayName: `Upstream ${id}`,
    kind: 'oidc',
    issuer: op.issuer,
    clientId: id,
    clientSecret: SECRET,
    ...overrides,
  });

  beforeAll(async () => {
    op = await startUpstreamOp({
      clients: OP_CONNECTIONS.map((id) => ({
        client_id: id,
        client_secret: SECRET,
        redirect_uris: [federationRedirectUri(ISSUER, id)],
      })),
    });
    social = await startSocialUpstream({ clientId: 'social-client', clientSecret: SECRET });
    await rig.services.admin.roles.create({ name: 'engineering' }, TEST_ACTOR).catch(() => undefined);
    const create = (input: ConnectionInput) => rig.services.connections.create(input, TEST_ACTOR);
    await create(
      connection('op-main', {
        scopes: ['openid', 'email', 'profile', 'groups'],
        createAccounts: true,
        trustEmailVerification: true,
        trustUpstreamMfa: true,
        roleRules: [{ group: 'eng', role: 'engineering' }],
      }),
    );
    await create(connection('op-untrusted', { createAccounts: true }));
    await create(connection('op-closed', { trustEmailVerification: true }));
    await create(
      connection('op-domain', {
        createAccounts: true,
        trustEmailVerification: true,
        allowedEmailDomains: ['corp.test'],
        homeRealmDomains: ['corp.test'],
      }),
    );
    await create(connection('op-clients', { createAccounts: true, allowedClients: ['offered-client'] }));
    await create(connection('op-slow', { createAccounts: true }));
    await create({
      id: 'github',
      displayName: 'GitHub',
      preset: 'github',
      clientId: 'social-client',
      clientSecret: SECRET,
      createAccounts: true,
      trustEmailVerification: true,
      options: { baseUrl: social.url, apiUrl: social.url },
    });
    await create({
      id: 'discord',
      displayName: 'Discord',
      preset: 'discord',
      clientId: 'social-client',
      clientSecret: SECRET,
      createAccounts: true,
      trustEmailVerification: true,
      options: { baseUrl: social.url },
    });
  });
  afterAll(async () => {
    await op?.close();
    await social?.close();
  });

  const fed = () => rig.services.federation;

  /** A person at the OP with these claims, signed in there by the next authorization. */
  function upstreamPerson(claims: Record<string, unknown>, login: { amr?: string[]; acr?: string } = {}): string {
    const subject = `sub-${randomBytes(6).toString('hex')}`;
    op.setAccount(subject, claims);
    op.login = { accountId: subject, ...login };
    return subject;
  }

  /** begin(), the upstream's authorization step, and the callback's parameters. */
  async function toCallback(
    connectionId: string,
    options: {
      clientId?: string | null;
      tamperUrl?: (url: URL) => void;
      intent?: { kind: 'link'; userId: string };
    } = {},
  ) {
    const begun = await fed().begin({
      connectionId,
      interactionUid: `uid-${randomBytes(6).toString('hex')}`,
      clientId: options.clientId ?? null,
      expiresAt: new Date(Date.now() + 600_000),
      intent: options.intent,
    });
    options.tamperUrl?.(begun.url);
    const params = await followToCallback(begun.url, fed().redirectUri(connectionId));
    return { begun, params };
  }

  async function signIn(
    connectionId: string,
    options: Parameters<typeof toCallback>[1] = {},
  ): Promise<FederationOutcome> {
    const { begun, params } = await toCallback(connectionId, options);
    return fed().complete({ connectionId, params, browserBinding: begun.browserBinding });
  }

  const failure = (reason: string) => expect.objectContaining({ name: 'FederationError', reason });

  it('uses the redirect URI the upstream was registered with', () => {
    expect(fed().redirectUri('op-main')).toBe(federationRedirectUri(ISSUER, 'op-main'));
  });

  it('creates an account on the first sign-in (verified address, mapped roles) and signs the same person in after', async () => {
    const email = uniqueEmail('fed-new');
    upstreamPerson({ email, email_verified: true, name: 'Fed Person', groups: ['eng'] });
    const first = await signIn('op-main');
    expect(first).toMatchObject({ kind: 'created', connectionId: 'op-main', amr: ['fed'] });
    const user = await rig.storage.users.findById(first.userId);
    expect(user).toMatchObject({ email, emailVerified: true, name: 'Fed Person' });
    expect(await rig.storage.roles.rolesOf(first.userId)).toEqual(['engineering']);
    expect(await rig.storage.users.passwordHash(first.userId)).toBeNull();
    const events = (await rig.storage.audit.query({ subjectId: first.userId, limit: 10 })).map((e) => e.action).sort();
    expect(events).toEqual(['federation.account_created', 'federation.identity_linked', 'signin.upstream.succeeded']);

    const again = await signIn('op-main');
    expect(again).toMatchObject({ kind: 'signed-in', userId: first.userId });
    expect(await fed().listIdentities(first.userId)).toEqual([
      expect.objectContaining({ connectionId: 'op-main', connectionName: 'Upstream op-main', email }),
    ]);
    // Each sign-in is recorded as one (the dashboard counts them, docs/admin-console.md).
    const signIns = await rig.storage.audit.query({
      subjectId: first.userId,
      action: 'signin.upstream.succeeded',
      limit: 10,
    });
    expect(signIns.map((e) => e.details)).toEqual([{ connection: 'op-main' }, { connection: 'op-main' }]);
  });

  it("counts the upstream's MFA only when its amr says so and the connection trusts it", async () => {
    upstreamPerson({ email: uniqueEmail('fed-mfa'), email_verified: true }, { amr: ['pwd', 'mfa'] });
    expect(await signIn('op-main')).toMatchObject({ amr: ['fed', 'mfa'] });
    upstreamPerson({ email: uniqueEmail('fed-mfa'), email_verified: true }, { amr: ['pwd', 'mfa'] });
    expect(await signIn('op-untrusted')).toMatchObject({ amr: ['fed'] });
  });

  it('never merges by address: a matching account needs proof, then link() links it', async () => {
    const owner = await rig.buildUser({ email: uniqueEmail('fed-owner') });
    const subject = upstreamPerson({ email: owner.email.toUpperCase(), email_verified: true });
    const outcome = await signIn('op-main');
    expect(outcome).toMatchObject({ kind: 'link-required', userId: owner.id, email: owner.email });
    expect(await rig.storage.identities.find('op-main', subject)).toBeNull();
    if (outcome.kind !== 'link-required') throw new Error('unreachable');

    const stranger = await rig.buildUser({ email: uniqueEmail('fed-stranger') });
    await expect(fed().link(stranger.id, outcome.pending)).rejects.toEqual(failure('state_mismatch'));
    await expect(fed().link(owner.id, `${outcome.pending}x`)).rejects.toEqual(failure('state_mismatch'));

    await fed().link(owner.id, outcome.pending);
    expect(await signIn('op-main')).toMatchObject({ kind: 'signed-in', userId: owner.id });
  });

  it('an unverified or untrusted upstream address never links, and never makes a verified account', async () => {
    const owner = await rig.buildUser({ email: uniqueEmail('fed-victim') });
    upstreamPerson({ email: owner.email, email_verified: false });
    await expect(signIn('op-main')).rejects.toEqual(failure('email_not_verified'));
    upstreamPerson({ email: owner.email, email_verified: true });
    await expect(signIn('op-untrusted')).rejects.toEqual(failure('email_not_verified'));
    expect(await fed().listIdentities(owner.id)).toEqual([]);

    const email = uniqueEmail('fed-unverified');
    upstreamPerson({ email, email_verified: false });
    const created = await signIn('op-main');
    expect(created.kind).toBe('created');
    expect(await rig.storage.users.findById(created.userId)).toMatchObject({ email, emailVerified: false });
    upstreamPerson({ email: uniqueEmail('fed-untrusted'), email_verified: true });
    const untrusted = await signIn('op-untrusted');
    expect(await rig.storage.users.findById(untrusted.userId)).toMatchObject({ emailVerified: false });
  });

  it('does not create an account when the connection does not allow it', async () => {
    upstreamPerson({ email: uniqueEmail('fed-closed'), email_verified: true });
    await expect(signIn('op-closed')).rejects.toEqual(failure('no_account'));
  });

  it('refuses a tampered state, a replayed callback and a callback in another browser, and audits them', async () => {
    upstreamPerson({ email: uniqueEmail('fed-state'), email_verified: true });
    const { begun, params } = await toCallback('op-main');
    const complete = (p: Record<string, string>, binding = begun.browserBinding) =>
      fed().complete({ connectionId: 'op-main', params: p, browserBinding: binding });
    await expect(complete({ ...params, state: `${params.state}x` })).rejects.toEqual(failure('state_mismatch'));
    await expect(complete({ ...params, state: '' })).rejects.toEqual(failure('state_mismatch'));
    await expect(complete(params)).resolves.toMatchObject({ kind: 'created' });
    await expect(complete(params)).rejects.toEqual(failure('state_mismatch'));

    const other = await toCallback('op-main');
    await expect(
      fed().complete({ connectionId: 'op-main', params: other.params, browserBinding: 'another-browser' }),
    ).rejects.toEqual(failure('state_mismatch'));
    await expect(
      fed().complete({ connectionId: 'op-main', params: other.params, browserBinding: other.begun.browserBinding }),
    ).rejects.toEqual(failure('state_mismatch'));
    const failures = await rig.storage.audit.query({ action: 'federation.failed', limit: 50 });
    expect(failures.some((e) => e.details.reason === 'state_mismatch' && e.details.connection === 'op-main')).toBe(
      true,
    );
  });

  it('refuses an ID token with another nonce', async () => {
    upstreamPerson({ email: uniqueEmail('fed-nonce'), email_verified: true });
    await expect(
      signIn('op-main', { tamperUrl: (url) => url.searchParams.set('nonce', 'a-nonce-of-another-attempt') }),
    ).rejects.toEqual(failure('nonce_mismatch'));
  });

  it('refuses a response from another issuer (mix-up, RFC 9207) or for another connection', async () => {
    upstreamPerson({ email: uniqueEmail('fed-mixup'), email_verified: true });
    const { begun, params } = await toCallback('op-main');
    expect(params.iss).toBe(op.issuer);
    await expect(
      fed().complete({
        connectionId: 'op-main',
        params: { ...params, iss: 'https://attacker.example' },
        browserBinding: begun.browserBinding,
      }),
    ).rejects.toEqual(failure('issuer_mismatch'));
    const second = await toCallback('op-main');
    await expect(
      fed().complete({
        connectionId: 'op-untrusted',
        params: second.params,
        browserBinding: second.begun.browserBinding,
      }),
    ).rejects.toEqual(failure('issuer_mismatch'));
  });

  it("ends with the upstream's error when the person declines there", async () => {
    upstreamPerson({ email: uniqueEmail('fed-deny') });
    op.deny = true;
    try {
      const error = await signIn('op-main').catch((e: unknown) => e);
      expect(error).toEqual(failure('upstream_error'));
      expect((error as FederationError).upstreamError).toBe('access_denied');
    } finally {
      op.deny = false;
    }
  });

  it('gives up on an upstream that does not answer, within the configured timeout', async () => {
    upstreamPerson({ email: uniqueEmail('fed-slow'), email_verified: true });
    const { begun, params } = await toCallback('op-slow');
    op.slow = true;
    try {
      const started = Date.now();
      await expect(
        fed().complete({ connectionId: 'op-slow', params, browserBinding: begun.browserBinding }),
      ).rejects.toEqual(failure('upstream_unavailable'));
      expect(Date.now() - started).toBeLessThan(5000);
      expect(op.held()).toBeGreaterThan(0);
    } finally {
      op.slow = false;
    }
  });

  it('lets in only verified addresses at the allowed domains', async () => {
    upstreamPerson({ email: uniqueEmail('fed-domain'), email_verified: true });
    await expect(signIn('op-domain')).rejects.toEqual(failure('domain_not_allowed'));
    upstreamPerson({ email: `someone-${randomBytes(4).toString('hex')}@corp.test`, email_verified: false });
    await expect(signIn('op-domain')).rejects.toEqual(failure('domain_not_allowed'));
    upstreamPerson({ email: `someone-${randomBytes(4).toString('hex')}@CORP.test`, email_verified: true });
    await expect(signIn('op-domain')).resolves.toMatchObject({ kind: 'created' });
  });

  it("finds a connection by the address's domain (home-realm discovery) and honours the client allow-list", async () => {
    await expect(fed().connectionForEmail('Person@Corp.Test', null)).resolves.toMatchObject({ id: 'op-domain' });
    await expect(fed().connectionForEmail('person@elsewhere.test', null)).resolves.toBeNull();
    await expect(fed().resolveHint('op-clients', 'another-client')).resolves.toBeNull();
    await expect(fed().resolveHint('op-clients', 'offered-client')).resolves.toMatchObject({ id: 'op-clients' });
    await expect(
      fed().begin({
        connectionId: 'op-clients',
        interactionUid: 'u',
        clientId: 'another-client',
        expiresAt: new Date(Date.now() + 60_000),
      }),
    ).rejects.toEqual(failure('connection_unavailable'));
    await expect(
      fed().begin({
        connectionId: 'no-such-connection',
        interactionUid: 'u',
        clientId: null,
        expiresAt: new Date(Date.now() + 60_000),
      }),
    ).rejects.toEqual(failure('connection_unavailable'));
    expect((await fed().offered('another-client')).map((c) => c.id)).not.toContain('op-clients');
  });

  it('refuses to unlink the last way to sign in; with a password left, unlinks and audits', async () => {
    upstreamPerson({ email: uniqueEmail('fed-unlink'), email_verified: true });
    const created = await signIn('op-main');
    await expect(fed().unlink(created.userId, 'op-main')).rejects.toMatchObject({
      name: 'PolicyRefusedError',
      rule: 'last_sign_in_method',
    });
    expect(await fed().listIdentities(created.userId)).toHaveLength(1);

    const owner = await rig.buildUser({ email: uniqueEmail('fed-pw') });
    upstreamPerson({ email: uniqueEmail('fed-other'), email_verified: true });
    await expect(signIn('op-main', { intent: { kind: 'link', userId: owner.id } })).resolves.toMatchObject({
      kind: 'linked',
      userId: owner.id,
    });
    await expect(fed().unlink(owner.id, 'op-main')).resolves.toBe(true);
    await expect(fed().unlink(owner.id, 'op-main')).resolves.toBe(false);
    expect(
      await rig.storage.audit.query({ subjectId: owner.id, action: 'federation.identity_unlinked', limit: 5 }),
    ).toHaveLength(1);
  });

  it("signs in through GitHub's API with its verified primary address", async () => {
    const email = uniqueEmail('fed-github');
    social.github.user = { id: 4242, login: 'octo', name: null, avatar_url: null };
    social.github.emails = [
      { email: uniqueEmail('public'), primary: false, verified: true },
      { email, primary: true, verified: true },
    ];
    const outcome = await signIn('github');
    expect(outcome).toMatchObject({ kind: 'created', amr: ['fed'] });
    expect(await rig.storage.users.findById(outcome.userId)).toMatchObject({
      email,
      emailVerified: true,
      name: 'octo',
    });
    expect(await rig.storage.identities.find('github', '4242')).toMatchObject({ userId: outcome.userId });
  });

  it("signs in through Discord's API, an unverified address unverified", async () => {
    const email = uniqueEmail('fed-discord');
    social.discord.user = { id: '80351110224678913', username: 'nelly', global_name: 'Nelly', email, verified: false };
    const outcome = await signIn('discord');
    expect(await rig.storage.users.findById(outcome.userId)).toMatchObject({
      email,
      emailVerified: false,
      name: 'Nelly',
    });
  });

  it('seals the client secret: the row never holds it and the service never returns it', async () => {
    const { rows } = await runSql<{ secret_sealed: string; settings: unknown }>(
      rig.storage.dataSource,
      'SELECT secret_sealed, settings FROM connections WHERE id = $1',
      ['op-main'],
    );
    expect(rows[0]?.secret_sealed).toMatch(/^v1\./);
    expect(JSON.stringify(rows[0])).not.toContain(SECRET);
    const shown = await rig.services.connections.get('op-main');
    expect(shown.hasSecret).toBe(true);
    expect(JSON.stringify(shown)).not.toContain(SECRET);
  });

  it('keeps the sealed secret through an update that does not give one, and refuses bad changes by field', async () => {
    const before = await runSql<{ secret_sealed: string }>(
      rig.storage.dataSource,
      'SELECT secret_sealed FROM connections WHERE id = $1',
      ['op-closed'],
    );
    const updated = await rig.services.connections.update(
      'op-closed',
      { displayName: 'Renamed', order: 3 },
      TEST_ACTOR,
    );
    expect(updated).toMatchObject({ displayName: 'Renamed', order: 3, hasSecret: true, trustEmailVerification: true });
    const after = await runSql<{ secret_sealed: string }>(
      rig.storage.dataSource,
      'SELECT secret_sealed FROM connections WHERE id = $1',
      ['op-closed'],
    );
    expect(after.rows[0]?.secret_sealed).toBe(before.rows[0]?.secret_sealed);
    await expect(rig.services.connections.create(connection('op-main'), TEST_ACTOR)).rejects.toMatchObject({
      name: 'ConflictError',
      field: 'id',
    });
    await expect(
      rig.services.connections.update('op-closed', { roleRules: [{ group: 'g', role: 'no-such-role' }] }, TEST_ACTOR),
    ).rejects.toMatchObject({ name: 'InvalidInputError', field: 'role_rules.0.role' });
    await expect(
      rig.services.connections.update('op-closed', { issuer: 'http://idp.example.com' }, TEST_ACTOR),
    ).rejects.toMatchObject({ name: 'InvalidInputError', field: 'issuer' });
    await expect(rig.services.connections.update('no-such', { displayName: 'x' }, TEST_ACTOR)).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    expect(await rig.storage.audit.query({ action: 'connection.updated', limit: 5 })).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ connection: 'op-closed', secretChanged: false }) }),
    ]);
  });
});
