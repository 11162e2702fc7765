/**
 * ESM + TypeScript through ts-jest, transpiling each file alone (isolatedModules in tsconfig;
 * `npm run typecheck` checks types):
 * oidc-provider, jose and openid-client are ESM-only. jest 29 and ts-jest have no native
 * platform packages, so `npm ci` works against registries that mirror only this platform.
 */
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

export default {
  projects: [
    {
      ...common,
      displayName: 'tests',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/'],
    },
    {
      ...common,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      // 60 s instead of 15 (test/helpers/browser-timeout.ts says why).
      setupFilesAfterEnv: ['<rootDir>/test/helpers/browser-timeout.ts'],
    },
  ],
  // A test that takes longer than this is slow, not unlucky: server boots pass their own
  // timeout (BOOT_TIMEOUT, test/helpers/sessions.ts), and the system tests that legitimately
  // take longer (built-server boots, throwaway PostgreSQL, the image recipe) say so at the test.
  testTimeout: 15_000,
  // Each test file re-evaluates the module graph in the worker; without a limit a worker's heap
  // grew to ~1.3 GB over the suite. A worker above this is replaced between files.
  workerIdleMemoryLimit: '512MB',
  maxWorkers: 2,
  // Most folders' suites run as one file each (docs/decisions.md, "Test suite"): order them by what they import.
  testSequencer: '<rootDir>/jest.sequencer.js',
};
