import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventContracts, toJsonSchema, withProblemCodes } from '@booking/contracts';

/**
 * `npm run contracts -- freeze`: writes the JSON Schema of each event type's current version to
 * libs/contracts/schemas/<Type>.v<N>.json if it is not there yet. A frozen schema is what readers of
 * that version were built against; it is never rewritten (contracts.spec.ts compares every later
 * change of the version against it).
 */
const root = process.cwd();

function freeze(): void {
  let written = 0;
  for (const [type, contract] of Object.entries(eventContracts)) {
    const file = join(root, 'libs', 'contracts', 'schemas', `${type}.v${contract.version}.json`);
    if (existsSync(file)) continue;
    writeFileSync(file, `${JSON.stringify(toJsonSchema(contract.schema), null, 2)}\n`);
    console.log(`froze ${type} version ${contract.version}: ${file}`);
    written++;
  }
  console.log(written === 0 ? 'every current version is frozen already' : `${written} schema(s) frozen; add a golden sample for each to libs/contracts/samples`);
}

/**
 * `npm run contracts -- readme`: rewrites the README's list of problem codes from PROBLEM_CODES
 * (libs/contracts/src/http/problems.ts); a test fails while it is stale.
 */
function readme(): void {
  const file = join(root, 'README.md');
  const before = readFileSync(file, 'utf8');
  const after = withProblemCodes(before);
  if (after === before) {
    console.log('the README\'s list of problem codes is current');
    return;
  }
  writeFileSync(file, after);
  console.log(`rewrote the list of problem codes in ${file}`);
}

const commands: Record<string, () => void> = { freeze, readme };
const command = commands[process.argv[2] ?? ''];
if (!command) {
  console.error(`usage: npm run contracts -- ${Object.keys(commands).join('|')}`);
  process.exit(2);
}
command();
