/**
 * The test/integration/mfa/ suites as one jest file: each file costs ~0.8 s of module loading in its worker,
 * and the suites share every module (docs/decisions.md, "Test suite"). Each suite is its own
 * module with its own describe blocks and hooks; run one with `-t '<describe title>'`.
 * test/unit/test-layout.test.ts checks that every suite of the folder is listed here.
 */
import './mfa/code-factors.suite.js';
import './mfa/csrf.suite.js';
import './mfa/enrolment.suite.js';
import './mfa/mfa-reset.suite.js';
import './mfa/recovery-codes.suite.js';
import './mfa/resume-reads.suite.js';
import './mfa/step-up.suite.js';
import './mfa/totp-sign-in.suite.js';
