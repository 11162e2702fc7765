/**
 * The test/integration/admin-api/ suites as one jest file: each file costs ~0.8 s of module loading in its worker,
 * and the suites share every module (docs/decisions.md, "Test suite"). Each suite is its own
 * module with its own describe blocks and hooks; run one with `-t '<describe title>'`.
 * test/unit/test-layout.test.ts checks that every suite of the folder is listed here.
 */
import './admin-api/auth.suite.js';
import './admin-api/client-flows.suite.js';
import './admin-api/clients.suite.js';
import './admin-api/code-factors.suite.js';
import './admin-api/connections.suite.js';
import './admin-api/console-user-tokens.suite.js';
import './admin-api/hostile-input.suite.js';
import './admin-api/initial-access-tokens.suite.js';
import './admin-api/keys-audit.suite.js';
import './admin-api/openapi.suite.js';
import './admin-api/roles.suite.js';
import './admin-api/sessions.suite.js';
import './admin-api/users.suite.js';
