import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROBLEM_CODE_LIST, PROBLEM_CODES, problemCodesFor, problemCodesMarkdown, problemSchema, withProblemCodes } from './http/problems';

const ROOT = join(__dirname, '..', '..', '..');

/** Every non-test TypeScript source of the libs and services, except the list itself. */
function sources(dir: string, found: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!['node_modules', 'testing', 'dist'].includes(entry.name)) sources(path, found);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !path.endsWith(join('http', 'problems.ts'))) {
      found.push(path);
    }
  }
  return found;
}

describe('problem codes', () => {
  it('the README lists exactly PROBLEM_CODES (else: npm run contracts -- readme)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const current = withProblemCodes(readme) === readme;
    expect({ readmeCurrent: current, fix: current ? undefined : 'npm run contracts -- readme' }).toEqual({ readmeCurrent: true, fix: undefined });
    for (const code of PROBLEM_CODE_LIST) expect(readme).toContain(`| \`${code}\` |`);
  });

  it('a stale README is noticed and rewritten', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const stale = readme.replace(`| \`SLOT_UNAVAILABLE\` |`, '| `SLOT_GONE` |');
    expect(stale).not.toBe(readme);
    expect(withProblemCodes(stale)).toBe(readme);
    expect(() => withProblemCodes('# no list here\n')).toThrow(/no list of problem codes/);
  });

  it('lists only codes some service raises (ProblemError checks the other way round when compiling)', () => {
    const text = [...sources(join(ROOT, 'libs')), ...sources(join(ROOT, 'services'))].map((file) => readFileSync(file, 'utf8')).join('\n');
    expect(PROBLEM_CODE_LIST.filter((code) => !text.includes(`'${code}'`))).toEqual([]);
  });

  it('gives each code a status (or any) and one line of meaning', () => {
    for (const code of PROBLEM_CODE_LIST) {
      const { status, meaning } = PROBLEM_CODES[code];
      expect({ code, statuses: status.every((s: number) => s >= 400 && s < 600), oneLine: meaning.length > 10 && !meaning.includes('\n') }).toEqual({ code, statuses: true, oneLine: true });
    }
    expect(problemCodesMarkdown().split('\n')).toHaveLength(PROBLEM_CODE_LIST.length + 2);
  });

  it('offers per status the codes that come with it, as an enum that refuses any other', () => {
    const conflicts = problemCodesFor(409);
    expect(conflicts).toEqual(expect.arrayContaining(['SLOT_UNAVAILABLE', 'IDEMPOTENCY_KEY_IN_USE', 'ILLEGAL_TRANSITION', 'HTTP_ERROR']));
    expect(conflicts).not.toContain('VALIDATION_FAILED');
    const schema = problemSchema(conflicts);
    const body = { type: 'https://booking.example/problems/slot-unavailable', title: 'Conflict', status: 409, code: 'SLOT_UNAVAILABLE', detail: 'Slot no longer available.' };
    expect(schema.safeParse(body).success).toBe(true);
    expect(schema.safeParse({ ...body, code: 'VALIDATION_FAILED' }).success).toBe(false);
    expect(schema.shape.code.description).toContain('- `SLOT_UNAVAILABLE`: The slot was taken or blocked meanwhile; pick another');
  });
});
