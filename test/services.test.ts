/**
 * The test/services/ suites as one jest file: each file costs ~0.8 s of module loading in its worker,
 * and the suites share every module (docs/decisions.md, "Test suite"). Each suite is its own
 * module with its own describe blocks and hooks; run one with `-t '<describe title>'`.
 * test/unit/test-layout.test.ts checks that every suite of the folder is listed here.
 */
import './services/codes.suite.js';
import './services/email-address.suite.js';
import './services/federation.suite.js';
import './services/password-change.suite.js';
import './services/second-factors.suite.js';
import './services/sign-in-factors.suite.js';
import './services/sign-up.suite.js';
import './services/user-sessions.suite.js';
