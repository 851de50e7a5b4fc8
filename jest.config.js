/**
 * Jest runs the project as ES modules (`@kubernetes/client-node` 1.x is ESM-only), so it
 * needs NODE_OPTIONS=--experimental-vm-modules (set by the npm scripts).
 * Projects: `unit` (pure core, use cases over in-memory ports, adapters over SDK mocks, the
 * CLI in-process: no subprocess, no packaging, no network; well under a minute), `slow` (the
 * built CLI in its own process, `serverless package` and its CloudFormation), `oracle`
 * (aws-iam-authenticator's own aws-auth code through test/oracle's binaries; no stack) and
 * `integration` (adapters and flows on the real local stack, started by globalSetup).
 */
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testEnvironment: 'node',
};

export default {
  // Integration tests wait on a real apiserver and moto; unit tests finish in milliseconds.
  testTimeout: 120000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'slow', testMatch: ['<rootDir>/test/slow/**/*.test.ts'] },
    { ...common, displayName: 'oracle', testMatch: ['<rootDir>/test/oracle/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.js',
      globalTeardown: '<rootDir>/test/integration/global-teardown.js',
    },
  ],
};
