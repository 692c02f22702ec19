// `nx run <project>:build`: compiles one project's sources, and the libs they import, into dist/ with the
// repository's tsconfig.build.json (same options, same layout: dist/services/<name>/src/main.js), through
// a generated tsconfig under tmp/ that includes only that project's folder.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join, relative, resolve } = require('node:path');
const { execFileSync } = require('node:child_process');

const root = resolve(__dirname, '../..');
const projectRoot = process.argv[2];
if (!projectRoot || !/^(services|libs)\/[\w-]+$/.test(projectRoot)) {
  console.error('usage: node tools/nx/build-project.js services/<name>|libs/<name>');
  process.exit(2);
}
const dir = join(root, 'tmp', 'nx-build');
mkdirSync(dir, { recursive: true });
const config = join(dir, `${projectRoot.replace('/', '-')}.tsconfig.json`);
const up = relative(dir, root);
// `exclude` (specs, testing/) and every compiler option come from tsconfig.build.json, relative to it.
writeFileSync(config, JSON.stringify({ extends: join(up, 'tsconfig.build.json'), include: [join(up, projectRoot, '**/*.ts')] }, null, 2));
execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', config], { cwd: root, stdio: 'inherit' });
