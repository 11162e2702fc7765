/**
 * The test/integration/tokens/ suites as one jest file: each file costs ~0.8 s of module loading in its worker,
 * and the suites share every module (docs/decisions.md, "Test suite"). Each suite is its own
 * module with its own describe blocks and hooks; run one with `-t '<describe title>'`.
 * test/unit/test-layout.test.ts checks that every suite of the folder is listed here.
 */
import './tokens/client-auth.suite.js';
import './tokens/client-credentials.suite.js';
import './tokens/code-single-use.suite.js';
import './tokens/concurrency.suite.js';
import './tokens/id-token-alg.suite.js';
import './tokens/introspection-revocation.suite.js';
import './tokens/path-spellings.suite.js';
import './tokens/phone-claims.suite.js';
import './tokens/pkce.suite.js';
import './tokens/redirect-uri.suite.js';
import './tokens/refresh-reuse-grace.suite.js';
import './tokens/refresh-tokens.suite.js';
import './tokens/response-and-grant-types.suite.js';
import './tokens/token-digests.suite.js';
