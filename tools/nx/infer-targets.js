// Nx plugin (nx.json "plugins"): gives every project (each services/* and libs/* project.json) its
// `build`, `test` and `lint` targets, so `nx affected -t test` runs the tests
// of what a change touches and of what depends on it. The commands are the repository's own (one jest
// config, one eslint config, one tsconfig.build.json); a project's targets only point them at its folder.
//
// Why not @nx/jest/plugin and @nx/eslint/plugin: they infer targets from a jest / eslint config in each
// project's folder, and this repository keeps one of each at the root (the README's `npm test` is one
// jest run); @nx/js/typescript needs TypeScript project references the repository does not use.
const { dirname, join } = require('node:path');
const { createNodesFromFiles, readJsonFile } = require('@nx/devkit');

/** @param {string} projectRoot @param {{ projectType?: string }} project */
function targetsOf(projectRoot, project) {
  const targets = {
    build: {
      // The project and the libs it imports, compiled with tsconfig.build.json into dist/ (where the
      // Dockerfile and the e2e tests run a service from); `npm run build` still builds everything at once.
      command: `node tools/nx/build-project.js ${projectRoot}`,
      options: { cwd: '{workspaceRoot}' },
      cache: false,
      // Builds write into the one dist/; one tsc at a time.
      parallelism: false,
      metadata: { description: `tsc: ${projectRoot} (${project.projectType ?? 'project'}) and the libs it imports, into dist/` },
    },
    test: {
      // A path pattern keeps jest's one config (its unit and integration projects, the global setup
      // that prepares Kafka and the databases); extra arguments after `--` go to jest
      // (`-- --selectProjects unit`, `-- --maxWorkers=1`).
      command: `jest --ci ${projectRoot}/`,
      options: { cwd: '{workspaceRoot}' },
      // Tests talk to the real Postgres, Kafka and Redis: never answered from a cache, and one jest run at
      // a time (each run's global setup prepares the same databases).
      cache: false,
      parallelism: false,
      metadata: { description: `jest on ${projectRoot}/ (unit and integration tests)` },
    },
    lint: {
      // The module-boundary rule reads the project graph Nx has just computed for this run.
      command: `eslint --max-warnings=0 ${projectRoot}`,
      options: { cwd: '{workspaceRoot}' },
      cache: true,
      inputs: ['default', '^default', '{workspaceRoot}/eslint.config.mjs', { externalDependencies: ['eslint'] }],
      outputs: [],
      metadata: { description: `eslint on ${projectRoot}` },
    },
  };
  return targets;
}

const PROJECT_FILES = '{services,libs}/*/project.json';

module.exports.createNodesV2 = [
  PROJECT_FILES,
  (configFiles, _options, context) =>
    createNodesFromFiles(
      (configFile) => {
        const projectRoot = dirname(configFile);
        const project = readJsonFile(join(context.workspaceRoot, configFile));
        return { projects: { [projectRoot]: { targets: targetsOf(projectRoot, project) } } };
      },
      configFiles,
      _options,
      context,
    ),
];
