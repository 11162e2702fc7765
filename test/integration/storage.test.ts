/**
 * The test/integration/storage/ suites as one jest file: each file costs ~0.8 s of module loading in its worker,
 * and the suites share every module (docs/decisions.md, "Test suite"). Each suite is its own
 * module with its own describe blocks and hooks; run one with `-t '<describe title>'`.
 * test/unit/test-layout.test.ts checks that every suite of the folder is listed here.
 */
import './storage/account-links.suite.js';
import './storage/adapter-batched-finds.suite.js';
import './storage/adapter-contract.suite.js';
import './storage/adapter-related-rows.suite.js';
import './storage/batched-transaction.suite.js';
import './storage/embedded-prepared.suite.js';
import './storage/kept-rows.suite.js';
import './storage/prepared-statements.suite.js';
import './storage/purge.suite.js';
import './storage/request-client-reads.suite.js';
import './storage/row-by-key.suite.js';
