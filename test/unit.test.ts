/**
 * The test/unit/ suites as one jest file: each file costs ~0.8 s of module loading in its worker,
 * and the suites share every module (docs/decisions.md, "Test suite"). Each suite is its own
 * module with its own describe blocks and hooks; run one with `-t '<describe title>'`.
 * test/unit/test-layout.test.ts checks that every suite of the folder is listed here.
 */
import './unit/administration-config.suite.js';
import './unit/architecture-doc.suite.js';
import './unit/branding.suite.js';
import './unit/breached-passwords.suite.js';
import './unit/canonical-path.suite.js';
import './unit/catalogue-keys.suite.js';
import './unit/client-registry.suite.js';
import './unit/codes.suite.js';
import './unit/config.suite.js';
import './unit/deployment-recipes.suite.js';
import './unit/device-snippet.suite.js';
import './unit/federation-apple-user.suite.js';
import './unit/federation-connections.suite.js';
import './unit/form-kit.suite.js';
import './unit/i18n.suite.js';
import './unit/key-activation.suite.js';
import './unit/key-value-store.suite.js';
import './unit/legacy-passwords.suite.js';
import './unit/limits-config.suite.js';
import './unit/password-policy.suite.js';
import './unit/perf-attribution.suite.js';
import './unit/protocol-edge.suite.js';
import './unit/resources-config.suite.js';
import './unit/route-gate.suite.js';
import './unit/row-cache.suite.js';
import './unit/secret-box.suite.js';
import './unit/secret-handoff.suite.js';
import './unit/sessions.suite.js';
import './unit/sign-up.suite.js';
import './unit/style-scale.suite.js';
import './unit/test-layout.suite.js';
import './unit/typed-json.suite.js';
import './unit/use-test-server.suite.js';
