/**
 * One Jest run for unit specs (beside the code, `*.spec.ts`) and end-to-end specs (`test/`,
 * `*.e2e-spec.ts`). The global setup migrates a template database once; each test file then gets
 * its own copy of it (see test/support/database.ts), so files never see each other's rows.
 *
 * jose is ESM-only and Jest cannot `require` ESM on Node 20, so jose alone is transformed.
 * @type {import('jest').Config}
 */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.(t|j)s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  maxWorkers: 2,
  testTimeout: 60_000,
};
