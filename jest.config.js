// Jest runs in ESM mode (NestJS 12 and jose 6 are ESM-only); @swc/jest compiles TypeScript
// with legacy decorators and decorator metadata, as the apps run under @swc-node/register.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
  },
];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.next/', '/.local/'],
};

export default {
  // A worker keeps every module and transform it loaded; past this it is restarted between
  // suites (in one long-lived process the last suites ran several times slower).
  workerIdleMemoryLimit: '1GB',
  // tests and hooks without their own timeout (closing a pool, dropping a database) get 30 s, not
  // 5: two suites at once on a busy 2-core machine (only the top-level value applies)
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,tools}/**/*.int-spec.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
