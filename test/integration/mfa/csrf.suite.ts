import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import {
  UserAgent,
  alertText,
  buildRp,
  errorCode,
  openAuthorization,
  pageKind,
  submitLogin,
  follow,
  type TestRp,
} from '../../helpers/sessions.js';
import { csrfToken, type Page } from '../../helpers/user-agent.js';
import {
  ACR,
  authenticationOf,
  buildTotpUser,
  finishAtRp,
  passwordStep,
  stepKind,
  submitCode,
  submitEnrolment,
  totpCode,
  totpSecretOn,
} from './support.js';

const FORGED = 'The form expired or was not sent by this site. Go back and try again.';
const FOREIGN = 'This form was sent from another site and was refused.';
const NOT_THIS_STEP = 'This step is not part of the current sign-in.';

function expectRefused(page: Page, status: number, code: string, message: string): void {
  expect(page.status).toBe(status);
  expect(page.location).toBeNull();
  expect(errorCode(page.html)).toBe(code);
  expect(alertText(page.html)).toBe(message);
}

/** The URL of an interaction step by its path after /interaction/<uid>. */
function stepUrl(page: Page, suffix: string): string {
  const uid = /\/interaction\/([^/?#]+)/.exec(page.url)?.[1];
  if (!uid) throw new Error(`not an interaction page: ${page.url}`);
  return new URL(`/interaction/${uid}${suffix}`, page.url).toString();
}

describe.each(HTTP_BACKENDS)('CSRF and step guards of the second-step forms (%s)', (backend) => {
  let rp: TestRp;
  let thirdParty: TestRp;
  const server = useTestServer(backend, {
    mfa: { policy: 'required', reauthenticationSeconds: 300, totpIssuer: 'Gatehouse' },
  });
  beforeAll(async () => {
    rp = await buildRp(server);
    thirdParty = await buildRp(server, { name: 'Third Party', firstParty: false });
  });

  it("refuses a code POST without a CSRF token, with another interaction's token or from another origin, and spends nothing", async () => {
    const user = await buildTotpUser(server);
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    expect(stepKind(first.page)).toBe('mfa');
    const url = stepUrl(first.page, '/mfa/code');
    const code = await totpCode(user.secret);
    const elsewhere = await passwordStep(new UserAgent(server.issuer), server, rp, user);
    const foreignToken = csrfToken(elsewhere.page.html);
    expect(foreignToken).not.toBe(csrfToken(first.page.html));

    expectRefused(await ua.post(url, { method: 'totp', code }), 403, 'forbidden', FORGED);
    expectRefused(await ua.post(url, { csrf: '', method: 'totp', code }), 403, 'forbidden', FORGED);
    expectRefused(await ua.post(url, { csrf: foreignToken, method: 'totp', code }), 403, 'forbidden', FORGED);
    expectRefused(
      await ua.post(
        url,
        { csrf: csrfToken(first.page.html), method: 'totp', code },
        { origin: 'https://evil.example' },
      ),
      403,
      'forbidden',
      FOREIGN,
    );

    // None of these was checked against the secret: the code is unspent and no failure counted.
    const events = await server.gatehouse.storage.storage.audit.forSubject(user.id);
    expect(events.filter((e) => e.action.startsWith('signin.mfa.'))).toEqual([]);
    const answer = await submitCode(ua, first.page, 'totp', code);
    expect(answer.status).toBe(303);
    expect(authenticationOf(await finishAtRp(ua, server, rp, answer, first.request)).acr).toBe(ACR.mfa);
  });

  it('refuses the enrolment and continue POSTs without a CSRF token, storing nothing', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, rp, user);
    expect(stepKind(first.page)).toBe('mfa_enrol');
    const code = await totpCode(totpSecretOn(first.page));

    expectRefused(await ua.post(stepUrl(first.page, '/mfa/enrol-totp'), { code }), 403, 'forbidden', FORGED);
    expectRefused(
      await ua.post(stepUrl(first.page, '/mfa/enrol-totp'), { csrf: 'x'.repeat(43), code }),
      403,
      'forbidden',
      FORGED,
    );
    expect(await server.gatehouse.storage.storage.credentials.listSecondFactors(user.id)).toEqual([]);

    const shown = await submitEnrolment(ua, first.page, code);
    expect(stepKind(shown)).toBe('recovery_codes');
    expectRefused(await ua.post(stepUrl(first.page, '/mfa/continue'), {}), 403, 'forbidden', FORGED);
    // The refused continue did not use up the completed enrolment.
    const done = await ua.post(stepUrl(first.page, '/mfa/continue'), { csrf: csrfToken(shown.html) });
    expect(done.status).toBe(303);
    await finishAtRp(ua, server, rp, done, first.request);
  });

  it('answers 400 to the second-step forms while the pending step is login, and the login still works', async () => {
    const user = await buildTotpUser(server);
    const ua = new UserAgent(server.issuer);
    const { request, page } = await openAuthorization(ua, rp, server.issuer);
    expect(pageKind(page)).toBe('login');
    // The login page's token is valid for this interaction: only the step is wrong.
    const csrf = csrfToken(page.html);
    const code = await totpCode(user.secret);
    expectRefused(
      await ua.post(stepUrl(page, '/mfa/code'), { csrf, method: 'totp', code }),
      400,
      'invalid_request',
      NOT_THIS_STEP,
    );
    expectRefused(
      await ua.post(stepUrl(page, '/mfa/enrol-totp'), { csrf, code }),
      400,
      'invalid_request',
      NOT_THIS_STEP,
    );
    expectRefused(await ua.post(stepUrl(page, '/mfa/continue'), { csrf }), 400, 'invalid_request', NOT_THIS_STEP);

    const done = await submitLogin(ua, page, user.email, user.password);
    expect(done.status).toBe(303);
    const mfa = await follow(ua, done.location ?? '', server.issuer);
    expect(stepKind(mfa)).toBe('mfa');
    const answer = await submitCode(ua, mfa, 'totp', code);
    expect(answer.status).toBe(303);
    await finishAtRp(ua, server, rp, answer, request);
  });

  it('answers 400 to a code POST once the second step is done and consent is pending', async () => {
    const user = await buildTotpUser(server);
    const ua = new UserAgent(server.issuer);
    const first = await passwordStep(ua, server, thirdParty, user);
    const answer = await submitCode(ua, first.page, 'totp', await totpCode(user.secret));
    expect(answer.status).toBe(303);
    const consent = await follow(ua, answer.location ?? '', server.issuer);
    expect(pageKind(consent)).toBe('consent');
    expectRefused(
      await ua.post(stepUrl(consent, '/mfa/code'), {
        csrf: csrfToken(consent.html),
        method: 'totp',
        code: await totpCode(user.secret, 1),
      }),
      400,
      'invalid_request',
      NOT_THIS_STEP,
    );
  });
});
