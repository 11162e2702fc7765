/**
 * The test/integration/federation/ suites as one jest file: each file costs ~0.8 s of module loading in its worker,
 * and the suites share every module (docs/decisions.md, "Test suite"). Each suite is its own
 * module with its own describe blocks and hooks; run one with `-t '<describe title>'`.
 * test/unit/test-layout.test.ts checks that every suite of the folder is listed here.
 */
import './federation/apple.suite.js';
import './federation/embedded-round-trip.suite.js';
import './federation/kept-connections.suite.js';
import './federation/sign-in.suite.js';
import './federation/upstream-sign-out.suite.js';
