import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';

export const ROOT = path.join(__dirname, '..', '..');

/** One line of the results table: a figure, its anchor measured in the same run, and their ratio. */
export type BenchRow = {
  section: string;
  name: string;
  value: number;
  unit: string;
  anchorName?: string;
  anchorValue?: number;
  /** value / anchor for rates (higher is better); anchor / value for latencies is not used: ratios are always "figure ÷ anchor". */
  ratio?: number;
  target?: string;
  pass?: boolean;
  note?: string;
};

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export type RunningService = { name: string; url: string; process: ChildProcess; peakRssMb: () => number; stop: () => Promise<void> };

/** Starts a compiled service (dist/) as its own process and waits until it reports ready. */
export async function startService(name: string, env: Record<string, string>): Promise<RunningService> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', path.join(ROOT, 'tools', 'register-paths.js'), path.join(ROOT, 'dist', 'services', name, 'src', 'main.js')],
    { env: { NODE_OPTIONS: '--max-semi-space-size=2 --max-old-space-size=96', ...process.env, ...env, PORT: String(port), LOG_LEVEL: env.LOG_LEVEL ?? 'warn', NODE_ENV: 'production' }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} during start-up`);
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not become ready within 60 s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name,
    url,
    process: child,
    peakRssMb: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      return hwm ? Number(hwm[1]) / 1024 : NaN;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      }),
  };
}

export type LoadResult = { requests: number; rps: number; p50: number; p99: number; statuses: Record<string, number>; errors: number };

/** Bounded HTTP load on loopback with autocannon; `build` makes each request (called per request). */
export async function load(options: {
  url: string;
  connections: number;
  durationSeconds: number;
  method?: 'GET' | 'POST';
  build?: () => { path: string; body?: string };
}): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    method: options.method ?? 'GET',
    headers: { 'content-type': 'application/json' },
    requests: options.build
      ? [
          {
            setupRequest: (req: autocannon.Request) => {
              const next = options.build!();
              return { ...req, path: next.path, body: next.body };
            },
          },
        ]
      : undefined,
  }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  instance.on('response', (_client: unknown, statusCode: number) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    statuses,
    errors: result.errors + result.timeouts,
  };
}

export async function withPg<T>(databaseUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Recreates a database for the run, so every run starts from the same empty state. */
export async function freshDatabase(baseUrl: string, name: string): Promise<string> {
  const admin = new URL(baseUrl);
  admin.pathname = '/postgres';
  await withPg(admin.toString(), async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${name}"`);
  });
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs pgbench with a script file; returns transactions per second (excluding connection time). */
export function pgbench(databaseUrl: string, scriptPath: string, clients: number, seconds: number): { tps: number; latencyMs: number } {
  const output = execFileSync('pgbench', ['-n', '-M', 'prepared', '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(seconds), '-f', scriptPath, databaseUrl], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tps = /tps = ([\d.]+) \((without initial connection time|excluding connections establishing)\)/.exec(output);
  const latency = /latency average = ([\d.]+) ms/.exec(output);
  if (!tps) throw new Error(`could not read pgbench output:\n${output}`);
  return { tps: Number(tps[1]), latencyMs: latency ? Number(latency[1]) : NaN };
}
