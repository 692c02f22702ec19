import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { TestEnvironment } from '@booking/platform/testing';

/**
 * The quick start's first command, as a newcomer runs it: `npm start` brings up a broker of its own and
 * all five services, each reporting Postgres and Kafka ready, and SIGINT leaves no process behind.
 * Ports are moved out of the way so it can run beside the rest of the suite.
 */
describe('npm start (scripts/start.sh)', () => {
  const root = path.join(__dirname, '..', '..');
  const env = new TestEnvironment();

  afterAll(async () => env.destroy());

  it('starts the whole platform and stops all of it on SIGINT', async () => {
    const base = 23000 + Math.floor(Math.random() * 500) * 10;
    const kafkaDataDir = path.join(root, 'tmp', `kafka-start-${process.pid}`);
    const child = spawn('bash', [path.join(root, 'scripts', 'start.sh')], {
      cwd: root,
      detached: true,
      env: {
        ...process.env,
        // A newcomer's shell, not jest's NODE_ENV=test.
        NODE_ENV: '',
        KAFKA_BROKERS: '',
        KAFKA_PORT: String(base),
        KAFKA_CONTROLLER_PORT: String(base + 1),
        KAFKA_DATA_DIR: kafkaDataDir,
        DATABASE_URL: env.databaseUrl,
        KAFKA_NAMESPACE: env.namespace,
        LOG_LEVEL: 'warn',
        GATEWAY_PORT: String(base + 2),
        SCHEDULING_PORT: String(base + 3),
        PAYMENT_PORT: String(base + 4),
        NOTIFICATION_PORT: String(base + 5),
        REMINDER_PORT: String(base + 6),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    const deadline = Date.now() + 240_000;
    while (!output.includes('platform is up') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(output).toContain('platform is up');
    for (const service of ['scheduling', 'payment', 'notification', 'reminder', 'api-gateway']) {
      expect(output).toMatch(new RegExp(`${service} ready on http://127\\.0\\.0\\.1:\\d+ \\(Postgres and Kafka ready\\)`));
    }
    const ready = await fetch(`http://127.0.0.1:${base + 2}/health/ready`);
    expect(ready.status).toBe(200);
    // The token it prints is one the gateway accepts, as a newcomer would use it.
    const token = /development admin token \(8 h\): (\S+)/.exec(output)?.[1];
    expect(token).toBeDefined();
    const providers = await fetch(`http://127.0.0.1:${base + 2}/v1/providers`, { headers: { authorization: `Bearer ${token}` } });
    expect(providers.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${base + 2}/v1/providers`)).status).toBe(401);

    const services = await descendants(child.pid!);
    const mains = services.filter((pid) => cmdline(pid).includes('/src/main.js'));
    expect(mains).toHaveLength(5);
    const broker = Number(readFileSync(path.join(kafkaDataDir, 'broker.pid'), 'utf8').trim());
    expect(cmdline(broker)).toContain('kafka.Kafka');
    const pids = [...mains, broker];
    process.kill(child.pid!, 'SIGINT');
    await exited;
    const running = (pid: number) => {
      try {
        return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    let alive = pids.filter(running);
    for (let i = 0; i < 40 && alive.length; i++) {
      await new Promise((r) => setTimeout(r, 250));
      alive = alive.filter(running);
    }
    expect(alive).toEqual([]);
    expect(output).toContain('stopped');
    rmSync(kafkaDataDir, { recursive: true, force: true });
  }, 300_000);
});

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Every process below `pid` (the services), read from /proc. */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parents) if (parent === p) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}
