/**
 * The test/integration/admin-console/ suites as one jest file: each file costs ~0.8 s of module loading in its worker,
 * and the suites share every module (docs/decisions.md, "Test suite"). Each suite is its own
 * module with its own describe blocks and hooks; run one with `-t '<describe title>'`.
 * test/unit/test-layout.test.ts checks that every suite of the folder is listed here.
 */
import './admin-console/access.suite.js';
import './admin-console/applications.suite.js';
import './admin-console/client-flows.suite.js';
import './admin-console/clients.suite.js';
import './admin-console/connections.suite.js';
import './admin-console/form-fields.suite.js';
import './admin-console/roles-audit-keys.suite.js';
import './admin-console/unlock.suite.js';
import './admin-console/users.suite.js';
