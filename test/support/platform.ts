import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { TestEnvironment } from '@booking/platform/testing';

const ROOT = path.join(__dirname, '..', '..');

export type ServiceName = 'api-gateway' | 'scheduling' | 'payment' | 'notification' | 'reminder';

export type RunningService = { name: ServiceName; url: string; port: number; child: ChildProcess; stop: (signal?: NodeJS.Signals) => Promise<void> };

async function freePort(): Promise<number> {
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
export async function startService(name: ServiceName, env: TestEnvironment, extra: Record<string, string> = {}): Promise<RunningService> {
  const main = path.join(ROOT, 'dist', 'services', name, 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx tsc -p tsconfig.build.json; npm test does it)`);
  const port = await freePort();
  const output: string[] = [];
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'tools', 'register-paths.js'), main], {
    env: { ...process.env, ...env.env(extra), PORT: String(port), KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  // Generous: on a loaded 2-core machine five services starting at once take a while.
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output.join('')}`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready within 180 s:\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    url,
    port,
    child,
    stop: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
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
