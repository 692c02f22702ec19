import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PUBLISHED_SECRETS } from '@booking/platform';

const ROOT = path.join(__dirname, '..');

/** Names that hold secrets: JWT_SECRET, TWILIO_AUTH_TOKEN, POSTGRES_PASSWORD, signingSecret, authToken, … */
const NAME = String.raw`[A-Za-z_]*(?:SECRET|Secret|secret|TOKEN|Token|token|PASSWORD|Password|password)[A-Za-z0-9_]*`;
const DEFAULTED = new RegExp(String.raw`\$\{(${NAME}):?-([^}]*)\}`, 'g');
const QUOTED = new RegExp(String.raw`\b(${NAME})\s*[=:]\s*(['"\`])([^'"\`\n]+)\2`, 'g');
const BARE = new RegExp(String.raw`\b(${NAME})\s*[=:]\s*([^\s'"\`$<,;|-][^\s'"\`$<,;|]*)`, 'g');
const URL_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s'"`]+:([^@/?#\s'"`]+)@/gi;

function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Every secret-looking value written in a tracked file: `${NAME:-default}` (Compose), `NAME=value` and
 * `NAME: value` (shell, YAML, Markdown), `name = 'value'` / `name: 'value'` in code, and the password of
 * any `scheme://user:password@host` URL. Interpolations and placeholders (`$…`, `<…>`) are not values.
 */
function secretsWrittenInTheRepository(): Map<string, string> {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })
    .toString()
    .split('\n')
    .filter((f) => f && !/(^|\/)package-lock\.json$|\.(png|jpg|ico|gz|jar)$/.test(f));
  const found = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(path.join(ROOT, file), 'utf8');
    } catch {
      continue; // listed but deleted in the work tree
    }
    const add = (value: string, where: string) => {
      // `<NAME>_FILE` holds a path, not the secret; a URL (a push endpoint) is an address, whose password
      // is taken below.
      if (value.length >= 6 && !/^[$<-]|^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !where.endsWith('_FILE')) found.set(value, `${file} (${where})`);
    };
    for (const m of text.matchAll(DEFAULTED)) add(m[2], m[1]);
    for (const m of text.matchAll(QUOTED)) add(m[3], m[1]);
    // In code, `secret: secret` names a variable, not a value.
    if (!/\.(ts|js|mjs|cjs)$/.test(file)) for (const m of text.matchAll(BARE)) add(m[2], m[1]);
    for (const m of text.matchAll(URL_PASSWORD)) add(decoded(m[1]), 'URL password');
  }
  return found;
}

describe('published secrets', () => {
  const found = secretsWrittenInTheRepository();

  it('finds the development defaults written in the services (the grep works)', () => {
    expect(found.get('booking-dev-secret-never-use-outside-development')).toMatch(/^services\/api-gateway\/src\/config\.ts/);
    expect(found.get('development-push-signing-secret')).toBeDefined();
    expect(found.get('password')).toMatch(/URL password/);
  });

  it('lists every secret written anywhere in the repository in PUBLISHED_SECRETS, which production refuses', () => {
    const missing = [...found].filter(([value]) => !PUBLISHED_SECRETS.has(value)).map(([value, where]) => `${JSON.stringify(value)} in ${where}`);
    expect(missing).toEqual([]);
  });
});
