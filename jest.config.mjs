/**
 * Jest 30 in native ESM mode (`node --experimental-vm-modules`, see `npm test`).
 * ts-jest only transpiles (isolatedModules); `npm run typecheck` is the type check.
 * Three projects:
 * - `unit` (src/**\/*.spec.ts): pure code, no sockets, no database;
 * - `integration` (src/**\/*.int-spec.ts): one class against a real peer on loopback (the SMS chain against
 *   the fake Xoxzo HTTP server), no database;
 * - `e2e` (test/**\/*.e2e-spec.ts): the real app over HTTP on a real embedded PostgreSQL started once by
 *   the global setup, with a fake Xoxzo server per test file.
 */
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
};
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
  transform,
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/src/**/*.int-spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
    },
  ],
  testTimeout: 30000,
  collectCoverageFrom: ['src/**/*.ts', '!src/**/*.spec.ts', '!src/**/*.int-spec.ts', '!src/database/migrations/**'],
};
