// One jest run for the whole monorepo: unit (*.spec.ts), integration (*.int.spec.ts) and e2e (*.e2e.spec.ts).
// Kafka and the databases are prepared once per run by scripts/test.sh (see test/global-setup.js).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const moduleNameMapper = {
  '^@booking/(contracts|platform)/testing$': '<rootDir>/libs/$1/src/testing/index.ts',
  '^@booking/platform/config$': '<rootDir>/libs/platform/src/config/index.ts',
  '^@booking/platform/tracing$': '<rootDir>/libs/platform/src/tracing/index.ts',
  '^@booking/(contracts|platform|slot-engine|appointment-domain|dev-inbox)$': '<rootDir>/libs/$1/src/index.ts',
};

const common = {
  rootDir: __dirname,
  transform: { '^.+\\.ts$': swc, '/@fastify/static/node_modules/.+\\.js$': swc },
  // @fastify/static (Swagger UI on Fastify) depends on ESM-only packages, which jest's CommonJS loader cannot
  // require (Node itself can): those few files are compiled to CommonJS like the sources.
  transformIgnorePatterns: ['^(?!.*/@fastify/static/node_modules/).*/node_modules/'],
  moduleNameMapper,
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/test'],
};

module.exports = {
  testTimeout: 60000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['**/*.spec.ts'],
      testPathIgnorePatterns: ['\\.int\\.spec\\.ts$', '\\.e2e\\.spec\\.ts$', '/node_modules/', '/dist/'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['**/*.int.spec.ts', '**/*.e2e.spec.ts'],
      globalSetup: '<rootDir>/test/global-setup.js',
      globalTeardown: '<rootDir>/test/global-teardown.js',
      testPathIgnorePatterns: ['/node_modules/', '/dist/'],
    },
  ],
};
