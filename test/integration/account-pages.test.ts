/**
 * The test/integration/account-pages/ suites as one jest file: each file costs ~0.8 s of module loading in its worker,
 * and the suites share every module (docs/decisions.md, "Test suite"). Each suite is its own
 * module with its own describe blocks and hooks; run one with `-t '<describe title>'`.
 * test/unit/test-layout.test.ts checks that every suite of the folder is listed here.
 */
import './account-pages/account-page.suite.js';
import './account-pages/code-factors.suite.js';
import './account-pages/form-fields.suite.js';
import './account-pages/linked-identities.suite.js';
import './account-pages/session-cookie-shape.suite.js';
