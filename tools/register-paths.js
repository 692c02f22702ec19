// Lets compiled services (dist/) resolve the @booking/* libs the same way the TypeScript sources do.
const path = require('node:path');
const { register } = require('tsconfig-paths');
const { compilerOptions } = require('../tsconfig.base.json');

const paths = {};
for (const [alias, targets] of Object.entries(compilerOptions.paths)) {
  paths[alias] = targets.map((target) => target.replace(/\.ts$/, ''));
}
register({ baseUrl: path.join(__dirname, '..', 'dist'), paths });
