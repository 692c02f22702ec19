import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '..');

/** The Markdown the project keeps: the README, docs/ and each service's and lib's README. */
function markdownFiles(): string[] {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  for (const dir of ['services', 'libs']) {
    for (const name of readdirSync(join(root, dir))) {
      if (existsSync(join(root, dir, name, 'README.md'))) files.push(`${dir}/${name}/README.md`);
    }
  }
  return files;
}

/** Relative link targets of a Markdown text, without their #anchor (absolute URLs and bare anchors left out). */
function relativeLinks(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.split('#')[0]);
}

describe('documentation', () => {
  it('links only to files inside the repository that exist', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      for (const target of relativeLinks(readFileSync(join(root, file), 'utf8'))) {
        const path = resolve(root, dirname(file), target);
        const inside = !relative(root, path).startsWith('..');
        if (!inside || !existsSync(path)) broken.push(`${file} → ${target}${inside ? ' (missing)' : ' (outside the repository)'}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('names in docs/architecture.md only files of the repository that exist', () => {
    const text = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
    const paths = [...text.matchAll(/`((?:services|libs|tools|infra|test|bench)\/[^`\s*<]+|eslint\.config\.mjs)`/g)].map((m) => m[1]);
    expect(paths.length).toBeGreaterThan(30);
    // Paths from the root (a file named relative to its service's src/ after the service was named is not checked).
    const missing = [...new Set(paths)].filter((path) => !existsSync(join(root, path.replace(/\/$/, ''))));
    expect(missing).toEqual([]);
  });

  it('is linked from the README', () => {
    expect(relativeLinks(readFileSync(join(root, 'README.md'), 'utf8'))).toContain('docs/architecture.md');
  });
});
