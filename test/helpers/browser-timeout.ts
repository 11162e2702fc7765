/**
 * Set up before each browser test file (jest.config.js, the "browser" project): a browser test
 * drives several pages while Chromium's own processes compete with the server for the two
 * cores — 5–10 s on a quiet machine, three times that while another process takes a core.
 * The suite's 15 s would fail them on a shared machine rather than find a slow test.
 * (`testTimeout` is one setting for all projects, so the browser project sets its own here.)
 */
const { jest } = import.meta as ImportMeta & { jest: { setTimeout(ms: number): void } };
jest.setTimeout(60_000);
