/**
 * The test/integration/limits/ suites as one jest file: each file costs ~0.8 s of module loading in its worker,
 * and the suites share every module (docs/decisions.md, "Test suite"). Each suite is its own
 * module with its own describe blocks and hooks; run one with `-t '<describe title>'`.
 * test/unit/test-layout.test.ts checks that every suite of the folder is listed here.
 */
import './limits/lockout.suite.js';
import './limits/rate-limits.suite.js';
import './limits/redis-fallback.suite.js';
import './limits/round-trips.suite.js';
import './limits/trusted-proxies.suite.js';
