import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * The lint rules that keep services independent and the domain pure, demonstrated on code that breaks
 * them. The code is linted as if it lived at the given path; nothing is written to the tree.
 */
describe('module boundaries (lint)', () => {
  const root = path.join(__dirname, '..');
  const cases = {
    serviceImportsService: {
      filePath: 'services/payment/src/violation.ts',
      code: "import { migrations } from '../../scheduling/src/migrations';\nexport const m = migrations;\n",
    },
    domainImportsNest: { filePath: 'libs/appointment-domain/src/violation.ts', code: "import * as x from '@nestjs/common';\nexport const y = x;\n" },
    domainImportsKnex: { filePath: 'libs/slot-engine/src/violation.ts', code: "import * as x from 'knex';\nexport const y = x;\n" },
    domainImportsPg: { filePath: 'libs/appointment-domain/src/violation.ts', code: "import * as x from 'pg';\nexport const y = x;\n" },
    domainImportsKafkajs: { filePath: 'libs/slot-engine/src/violation.ts', code: "import * as x from 'kafkajs';\nexport const y = x;\n" },
    sharedImportsServiceScoped: {
      filePath: 'libs/platform/src/violation.ts',
      code: "import { appointmentDecider } from '@booking/appointment-domain';\nexport const d = appointmentDecider;\n",
    },
    serviceUsesSharedAndOwnDomain: {
      filePath: 'services/scheduling/src/fine.ts',
      code: "import { TOPICS } from '@booking/contracts';\nimport { appointmentDecider } from '@booking/appointment-domain';\nexport const t = [TOPICS, appointmentDecider];\n",
    },
  };
  const errors: Record<string, string[]> = {};

  beforeAll(() => {
    const env = { ...process.env, NX_DAEMON: 'false' };
    // The boundary rule reads Nx's project graph; computing it first makes it available to ESLint.
    execFileSync(path.join(root, 'node_modules', '.bin', 'nx'), ['show', 'projects'], { cwd: root, env });
    const names = Object.keys(cases) as (keyof typeof cases)[];
    const input = names.map((n) => ({ ...cases[n], filePath: path.join(root, cases[n].filePath) }));
    const output = execFileSync(process.execPath, [path.join(root, 'tools', 'lint-text.mjs')], { cwd: root, env, input: JSON.stringify(input) });
    const results = JSON.parse(output.toString()) as { ruleId: string | null; message: string }[][];
    names.forEach((name, i) => {
      errors[name] = results[i].filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
    });
  }, 90000);

  it('rejects a service importing another service', () => {
    expect(errors.serviceImportsService.length).toBeGreaterThan(0);
  });

  it.each([
    ['domainImportsNest', '@nestjs/common'],
    ['domainImportsKnex', 'knex'],
    ['domainImportsPg', 'pg'],
    ['domainImportsKafkajs', 'kafkajs'],
  ])('rejects the domain importing a framework or I/O library (%s)', (name, pkg) => {
    expect(errors[name].join('\n')).toContain(pkg);
  });

  it('rejects a shared lib depending on a service-scoped lib', () => {
    expect(errors.sharedImportsServiceScoped.length).toBeGreaterThan(0);
  });

  it('accepts a service using shared libs and its own domain', () => {
    expect(errors.serviceUsesSharedAndOwnDomain).toEqual([]);
  });
});
