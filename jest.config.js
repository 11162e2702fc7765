/**
 * ESM + TypeScript through ts-jest, transpiling each file alone (isolatedModules in tsconfig;
 * `npm run typecheck` checks types):
 * oidc-provider, jose and openid-client are ESM-only. jest 29 and ts-jest have no native
 * platform packages, so `npm ci` works against registries that mirror only this platform.
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Integration tests boot real servers; on a loaded 2-core machine a boot can take long.
  testTimeout: 90000,
  maxWorkers: 2,
};
