import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import autocannon from 'autocannon';
import { Kafka } from 'kafkajs';
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
    { env: { NODE_OPTIONS: '--max-semi-space-size=2 --max-old-space-size=96', SHUTDOWN_DRAIN_MS: '0', ...process.env, ...env, PORT: String(port), LOG_LEVEL: env.LOG_LEVEL ?? 'warn', NODE_ENV: 'production' }, stdio: ['ignore', 'ignore', 'inherit'] },
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

export type LoadResult = {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  /** Response times (ms) by status code, to tell reads from writes in a mixed load. */
  latencies: Record<string, number[]>;
  errors: number;
  seconds: number;
};

/** Bounded HTTP load on loopback with autocannon; `build` makes each request (called once per request sent). */
export async function load(options: {
  url: string;
  connections: number;
  durationSeconds: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  build?: () => { path: string; body?: string; method?: 'GET' | 'POST' };
}): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  const latencies: Record<string, number[]> = {};
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    method: options.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...options.headers },
    requests: options.build
      ? [
          {
            setupRequest: (req: autocannon.Request) => {
              const next = options.build!();
              // autocannon writes Content-Length into the headers object it hands back next time: a GET
              // after a POST would announce the POST's body.
              const headers = { ...req.headers };
              delete headers['Content-Length'];
              return { ...req, headers, path: next.path, body: next.body, method: next.method ?? req.method };
            },
          },
        ]
      : undefined,
  }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    (latencies[statusCode] ??= []).push(responseTime);
  });
  const result = await instance;
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    statuses,
    latencies,
    errors: result.errors + result.timeouts,
    seconds: result.duration,
  };
}

/** p50 and p99 (ms, rounded to 0.1) of some responses of a load, by status codes. */
export function latencyOf(result: LoadResult, ...statuses: string[]): { n: number; p50: number; p99: number } {
  const all = statuses.flatMap((s) => result.latencies[s] ?? []).sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 10) / 10;
  return { n: all.length, p50: r(percentile(all, 50)), p99: r(percentile(all, 99)) };
}

/**
 * Stops the given processes (SIGSTOP) while `work` runs and lets them go on afterwards, so an anchor
 * measured meanwhile shares the cores with nothing of the platform's (no outbox relay, no consumer).
 */
export async function paused<T>(processes: ChildProcess[], work: () => Promise<T> | T): Promise<T> {
  const live = processes.filter((p) => p.exitCode === null && p.pid !== undefined);
  for (const p of live) process.kill(p.pid!, 'SIGSTOP');
  try {
    return await work();
  } finally {
    for (const p of live) process.kill(p.pid!, 'SIGCONT');
  }
}

let clockTicks: number | undefined;
/** CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat; NaN once it is gone. */
export function cpuMs(pid: number): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return NaN;
  }
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

/** pgbench's arguments for a run of a script file: prepared statements, `define` as `-D name=value`. */
export function pgbenchArgs(scriptPath: string, clients: number, seconds: number, define: Record<string, string | number> = {}): string[] {
  return [
    '-n',
    '-M',
    'prepared',
    '-c',
    String(clients),
    '-j',
    String(Math.min(clients, 2)),
    '-T',
    String(seconds),
    ...Object.entries(define).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
    '-f',
    scriptPath,
  ];
}

/** Runs pgbench (see pgbenchArgs); returns transactions per second (excluding connection time) and how many were processed. */
export function pgbench(databaseUrl: string, args: string[]): { tps: number; transactions: number; latencyMs: number } {
  const output = execFileSync('pgbench', [...args, databaseUrl], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const tps = /tps = ([\d.]+) \((without initial connection time|excluding connections establishing)\)/.exec(output);
  const processed = /number of transactions actually processed: (\d+)/.exec(output);
  const latency = /latency average = ([\d.]+) ms/.exec(output);
  if (!tps || !processed) throw new Error(`could not read pgbench output:\n${output}`);
  return { tps: Number(tps[1]), transactions: Number(processed[1]), latencyMs: latency ? Number(latency[1]) : NaN };
}

/**
 * Waits until both services' outboxes are empty and their consumer groups have committed every
 * message of the topics they read (so a measurement does not share the cores with an earlier one's
 * backlog); returns how long that took.
 */
export async function drain(kafka: Kafka, namespace: string, databaseUrl: string, limitMs = 180_000): Promise<number> {
  const started = Date.now();
  const groups = [
    { groupId: `${namespace}.payment`, topic: `${namespace}.scheduling.appointment.v1` },
    { groupId: `${namespace}.scheduling`, topic: `${namespace}.payment.v1` },
  ];
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (;;) {
      const outbox = await withPg(databaseUrl, async (c) =>
        Number((await c.query(`SELECT (SELECT count(*) FROM scheduling.outbox) + (SELECT count(*) FROM payment.outbox) AS n`)).rows[0].n),
      );
      let lag = 0;
      for (const { groupId, topic } of groups) {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const end of ends) {
          const at = committed.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
          lag += Number(end.high) - Math.max(0, Number(at));
        }
      }
      if (outbox === 0 && lag === 0) return Date.now() - started;
      if (Date.now() - started > limitMs) throw new Error(`the pipeline did not drain within ${limitMs / 1000} s (outbox ${outbox}, lag ${lag})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect();
  }
}
