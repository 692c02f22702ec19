import nx from '@nx/eslint-plugin';

const bannedInDomain = ['@nestjs/*', 'knex', 'pg', 'kafkajs', 'express', 'nodemailer', 'twilio', 'pino'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', 'tmp', '.nx', 'coverage'] },
  {
    files: ['**/*.ts'],
    rules: {
      // A service never imports another service; libs declare what they may use through their tags.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          // Each service's main.ts loads the platform only after its configuration is accepted (a refused
          // start fails at once); everything else imports it statically.
          checkDynamicDependenciesExceptions: ['@booking/platform'],
          depConstraints: [
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:scheduling', onlyDependOnLibsWithTags: ['scope:shared', 'scope:scheduling'] },
            { sourceTag: 'scope:payment', onlyDependOnLibsWithTags: ['scope:shared', 'scope:payment'] },
            { sourceTag: 'scope:notification', onlyDependOnLibsWithTags: ['scope:shared', 'scope:notification'] },
            { sourceTag: 'scope:reminder', onlyDependOnLibsWithTags: ['scope:shared', 'scope:reminder'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:domain'] },
            { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:contracts'] },
            // The domain (decider, slot engine) is pure: no framework, database or broker.
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain'],
              bannedExternalImports: bannedInDomain,
            },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [], bannedExternalImports: bannedInDomain },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.spec.ts', '**/testing/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
];
