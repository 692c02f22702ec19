import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { HEADER_EVENT_TYPE } from '@booking/contracts';
import { Client } from 'pg';
import { eventually, TestEnvironment } from '@booking/platform/testing';

const ROOT = path.join(__dirname, '..', '..');

export type ServiceName = 'api-gateway' | 'scheduling' | 'payment' | 'notification' | 'reminder';

export type RunningService = {
  name: ServiceName;
  url: string;
  port: number;
  child: ChildProcess;
  /** What the process wrote so far (the last 2000 chunks). */
  output: () => string;
  /** Sends the signal and resolves once the process has exited (SIGKILL after 15 s, or `killAfterMs`). */
  stop: (signal?: NodeJS.Signals, killAfterMs?: number) => Promise<void>;
};

export type StartOptions = {
  /** The port to listen on (default: a free one). */
  port?: number;
  /** What to wait for before returning (default `ready`; `live` for an instance that may not be ready). */
  waitFor?: 'ready' | 'live' | 'nothing';
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs a compiled service (dist/, built by `npm test` before jest) as its own process, the way
 * `npm start` does, inside a test environment's private database and Kafka namespace.
 */
export async function startService(name: ServiceName, env: TestEnvironment, extra: Record<string, string> = {}, options: StartOptions = {}): Promise<RunningService> {
  const main = path.join(ROOT, 'dist', 'services', name, 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx tsc -p tsconfig.build.json; npm test does it)`);
  const port = options.port ?? (await freePort());
  const waitFor = options.waitFor ?? 'ready';
  const output: string[] = [];
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'tools', 'register-paths.js'), main], {
    env: { ...process.env, ...env.env(extra), PORT: String(port), KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 2000) output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  // Generous: on a loaded 2-core machine five services starting at once take a while.
  const deadline = Date.now() + 180_000;
  while (waitFor !== 'nothing') {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output.join('')}`);
    try {
      if ((await fetch(`${url}/health/${waitFor}`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ${waitFor} within 180 s:\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    url,
    port,
    child,
    output: () => output.join(''),
    stop: (signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 15_000) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
        setTimeout(() => child.kill('SIGKILL'), killAfterMs).unref();
      }),
  };
}

export type HttpResult = { status: number; body: any; headers: Headers };

export async function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  const response = await fetch(url, {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // keep the text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** A Monday a week or more ahead at 00:00 UTC, so booked slots are always in the future. */
export function nextMondayUtc(weeksAhead = 1): Date {
  const now = new Date();
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const toMonday = (8 - day.getUTCDay()) % 7 || 7;
  return new Date(day.getTime() + (toMonday + 7 * (weeksAhead - 1)) * 86_400_000);
}

const kafkaOf = (env: TestEnvironment) => new Kafka({ brokers: env.env().KAFKA_BROKERS!.split(','), clientId: `${env.id}-support`, logLevel: logLevel.NOTHING });

/**
 * Waits until a consumer group has handled everything a service published on a topic so far: the
 * publisher's outbox is empty (every row was sent) and the group has committed every partition of the
 * topic up to its end (consumers commit after the effects). A count taken after this sees duplicates
 * and redeliveries too, not only the first effect.
 */
export async function caughtUp(env: TestEnvironment, options: { outboxSchema: string; topic: string; group: string }, timeoutMs = 30000): Promise<void> {
  const db = new Client({ connectionString: env.databaseUrl });
  const admin = kafkaOf(env).admin();
  await Promise.all([db.connect(), admin.connect()]);
  try {
    await eventually(
      async () => Number((await db.query(`SELECT count(*) FROM ${options.outboxSchema}.outbox`)).rows[0].count) === 0,
      timeoutMs,
      `the ${options.outboxSchema} outbox to be sent`,
    );
    const topic = `${env.namespace}.${options.topic}`;
    await eventually(
      async () => {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId: `${env.namespace}.${options.group}`, topics: [topic] });
        return ends.every(({ partition, high }) => {
          const offset = Number(committed.partitions.find((p) => p.partition === partition)?.offset ?? -1);
          return Number(high) === 0 || offset >= Number(high);
        });
      },
      timeoutMs,
      `${options.group} to have handled everything on ${options.topic}`,
    );
  } finally {
    await Promise.all([db.end(), admin.disconnect()]);
  }
}

/** Publishes a message of a topic again, exactly as it was (key, value, headers): a redelivery. */
export async function redeliver(env: TestEnvironment, topic: string, match: (message: { key: string; type: string }) => boolean, timeoutMs = 30000): Promise<void> {
  const kafka = kafkaOf(env);
  const reader = kafka.consumer({ groupId: `${env.id}-redeliver-${Date.now()}`, maxWaitTimeInMs: 100 });
  const producer = kafka.producer();
  await Promise.all([reader.connect(), producer.connect()]);
  try {
    let found: { key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> } | undefined;
    await reader.subscribe({ topic: `${env.namespace}.${topic}`, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        if (!found && match({ key: String(message.key), type: String(message.headers?.[HEADER_EVENT_TYPE] ?? '') })) found = message;
      },
    });
    const message = await eventually(async () => found, timeoutMs, `a message of ${topic} to redeliver`);
    await producer.send({
      topic: `${env.namespace}.${topic}`,
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers: message.headers as Record<string, Buffer> }],
    });
  } finally {
    await Promise.all([reader.disconnect(), producer.disconnect()]);
  }
}

export type Exit = { code: number | null; output: string; ms: number; exitedAt: number };

/**
 * Runs a compiled service (or `dist/<main>`) until it exits, for starts that must fail: its exit code,
 * everything it printed, and how long it ran. Killed after `timeoutMs`.
 */
export function runUntilExit(main: ServiceName | string, env: TestEnvironment, extra: Record<string, string> = {}, args: string[] = [], timeoutMs = 120_000): Promise<Exit> {
  const file = main.includes('/') ? path.join(ROOT, 'dist', main) : path.join(ROOT, 'dist', 'services', main, 'src', 'main.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: build first (npx tsc -p tsconfig.build.json; npm test does it)`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['-r', path.join(ROOT, 'tools', 'register-paths.js'), file, ...args],
      { env: { ...process.env, ...env.env({ LOG_LEVEL: 'error', ...extra }) }, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, output: `${stdout}${stderr}`, ms: Date.now() - started, exitedAt: Date.now() }),
    );
  });
}

/** When a service's log line with message `msg` was written (its pino `time`), or undefined. */
export function loggedAt(output: string, msg: string): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; time?: string };
      if (entry.msg === msg && entry.time) return Date.parse(entry.time);
    } catch {
      // not a log line
    }
  }
  return undefined;
}
