import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PUBLISHED_SECRETS } from '@booking/platform';
import { TestEnvironment } from '@booking/platform/testing';
import { ServiceName, startService } from '../support/platform';

const ROOT = path.join(__dirname, '..', '..');

type Slot = { name: string; set: (env: Record<string, string>, secret: string) => void };

const plain = (name: string): Slot => ({ name, set: (env, secret) => (env[name] = secret) });
const urlPassword = (name: string, url: (password: string) => string): Slot => ({ name, set: (env, secret) => (env[name] = url(encodeURIComponent(secret))) });
// A database name of its own, so that a published word is found in the output only if it leaked.
const database = urlPassword('DATABASE_URL', (pw) => `postgres://svc:${pw}@127.0.0.1:5432/zz`);

/** Where each service takes a secret: its secret variables and the password inside a URL it reads. */
const SLOTS: Record<ServiceName, Slot[]> = {
  'api-gateway': [database, urlPassword('REDIS_URL', (pw) => `redis://svc:${pw}@127.0.0.1:6379`), plain('JWT_SECRET')],
  scheduling: [database],
  payment: [database],
  notification: [database, urlPassword('SMTP_URL', (pw) => `smtps://svc:${pw}@127.0.0.1:465`), plain('TWILIO_AUTH_TOKEN'), plain('PUSH_SIGNING_SECRET')],
  reminder: [database],
};

/** Everything else a production start needs, so that only the secrets can be wrong. */
const VALID: Record<ServiceName, Record<string, string>> = {
  'api-gateway': { JWT_ISSUER: 'https://auth.example/', JWT_AUDIENCE: 'booking-api' },
  scheduling: {},
  payment: {},
  notification: { TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`, TWILIO_FROM: '+15005550006' },
  reminder: {},
};

type Outcome = { code: number | null; output: string };

/** Runs a compiled service until it exits (a refused configuration exits at once with status 1). */
function run(service: ServiceName, env: Record<string, string>): Promise<Outcome> {
  const main = path.join(ROOT, 'dist', 'services', service, 'src', 'main.js');
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['-r', path.join(ROOT, 'tools', 'register-paths.js'), main],
      { env: { PATH: process.env.PATH, ...env }, timeout: 120_000, killSignal: 'SIGKILL' },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, output: `${stdout}${stderr}` }),
    );
  });
}

/** A production environment with `secrets[i]` in the service's slot i. */
function productionEnv(service: ServiceName, secrets: string[]): Record<string, string> {
  const env: Record<string, string> = { NODE_ENV: 'production', KAFKA_BROKERS: '127.0.0.1:1', ...VALID[service] };
  SLOTS[service].forEach((slot, i) => slot.set(env, secrets[i % secrets.length]));
  return env;
}

/** The published values dealt out over a service's slots: every value lands in some start. */
function starts(service: ServiceName): string[][] {
  const values = [...PUBLISHED_SECRETS];
  const per = SLOTS[service].length;
  return Array.from({ length: Math.ceil(values.length / per) }, (_, i) =>
    Array.from({ length: per }, (_, j) => values[(i * per + j) % values.length]),
  );
}

async function inTurns<T>(items: T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  }));
}

/**
 * Each service started with NODE_ENV=production and each secret value written in this repository
 * (PUBLISHED_SECRETS, which test/published-secrets.int.spec.ts keeps complete) refuses to start,
 * names every variable holding one, and never prints one. The values are dealt out over the places a
 * service takes a secret, so that every value is tried in every service in a few starts.
 */
describe('production refuses published secrets', () => {
  const services = Object.keys(SLOTS) as ServiceName[];
  const outcomes = new Map<ServiceName, { secrets: string[]; outcome: Outcome }[]>();

  beforeAll(async () => {
    const runs = services.flatMap((service) => starts(service).map((secrets) => ({ service, secrets })));
    await inTurns(runs, 2, async ({ service, secrets }) => {
      const outcome = await run(service, productionEnv(service, secrets));
      outcomes.set(service, [...(outcomes.get(service) ?? []), { secrets, outcome }]);
    });
  }, 600_000);

  it.each(services)('%s refuses every published value, naming the variable and not printing the value', (service) => {
    const tried = new Set(outcomes.get(service)!.flatMap((o) => o.secrets));
    expect(tried).toEqual(new Set(PUBLISHED_SECRETS));
    for (const { secrets, outcome } of outcomes.get(service)!) {
      expect({ secrets, code: outcome.code }).toEqual({ secrets, code: 1 });
      expect(outcome.output).toContain(`${service}: invalid configuration`);
      for (const slot of SLOTS[service]) {
        expect(outcome.output).toMatch(new RegExp(`^  - ${slot.name} .*(published in this repository|at least \\d+ characters)`, 'm'));
      }
      for (const secret of secrets) expect({ secret, leaked: outcome.output.includes(secret) }).toEqual({ secret, leaked: false });
    }
  });

  it.each(services.filter((s) => SLOTS[s].length > 1))('%s refuses a secret shorter than its minimum without printing it', async (service) => {
    const short = randomBytes(6).toString('hex');
    const env: Record<string, string> = { ...productionEnv(service, [short]), DATABASE_URL: 'postgres://svc@127.0.0.1:5432/zz' };
    delete env.REDIS_URL;
    delete env.SMTP_URL;
    const { code, output } = await run(service, env);
    expect(code).toBe(1);
    const secretVariables = SLOTS[service].map((s) => s.name).filter((name) => !name.endsWith('_URL'));
    for (const name of secretVariables) expect(output).toMatch(new RegExp(`^  - ${name} is invalid: must be at least \\d+ characters$`, 'm'));
    expect(output).not.toContain(short);
  });

  it('starts in production with unpublished secrets given as <NAME>_FILE', async () => {
    const env = new TestEnvironment();
    const dir = mkdtempSync(path.join(tmpdir(), 'secrets-'));
    const file = (name: string) => {
      const at = path.join(dir, name);
      writeFileSync(at, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
      return at;
    };
    const service = await startService('notification', env, {
      NODE_ENV: 'production',
      ...VALID.notification,
      TWILIO_AUTH_TOKEN_FILE: file('twilio_auth_token'),
      PUSH_SIGNING_SECRET_FILE: file('push_signing_secret'),
    });
    try {
      expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
    } finally {
      await service.stop();
      await env.destroy();
    }
  });
});
