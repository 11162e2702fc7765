/**
 * The test/integration/interactions/ suites as one jest file: each file costs ~0.8 s of module loading in its worker,
 * and the suites share every module (docs/decisions.md, "Test suite"). Each suite is its own
 * module with its own describe blocks and hooks; run one with `-t '<describe title>'`.
 * test/unit/test-layout.test.ts checks that every suite of the folder is listed here.
 */
import './interactions/authorization-post.suite.js';
import './interactions/consent.suite.js';
import './interactions/csrf.suite.js';
import './interactions/error-page.suite.js';
import './interactions/form-fields.suite.js';
import './interactions/hostile-input.suite.js';
import './interactions/http-hardening.suite.js';
import './interactions/login.suite.js';
import './interactions/logout.suite.js';
import './interactions/prompts.suite.js';
import './interactions/sign-in-audit.suite.js';
