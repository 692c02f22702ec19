import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { SignJWT } from 'jose';
import { Knex } from 'knex';
import { Pool } from 'undici';
import { createKnex } from '@booking/platform';
import { TestEnvironment } from '@booking/platform/testing';
import { ApiGatewayConfig, loadApiGatewayConfig } from '../config';
import { createGatewayApp } from '../gateway-app';

const ROOT = join(__dirname, '..', '..', '..', '..');
const SCHEDULING_MAIN = join(ROOT, 'dist', 'services', 'scheduling', 'src', 'main.js');
export const TEST_ISSUER = 'https://auth.test.booking.example/';
export const TEST_AUDIENCE = 'booking-api-test';

export type Claims = { sub: string; roles: string[]; client_id?: string; provider_id?: string; [claim: string]: unknown };
export type TokenOptions = { secret?: string; issuer?: string; audience?: string; expiresIn?: string | number; notBefore?: string | number };
export type Reply = { status: number; headers: Record<string, string | string[] | undefined>; text: string; body: any };
export type RequestOptions = { body?: unknown; rawBody?: string; headers?: Record<string, string>; token?: string };

/**
 * The gateway's e2e tests run the real scheduling service as a child process built from dist/ (a
 * service never imports another), with fresh sources: a stale build would test yesterday's code.
 */
function assertSchedulingBuilt(): void {
  const build = 'run `npx tsc -p tsconfig.build.json` at the repository root first';
  if (!existsSync(SCHEDULING_MAIN)) throw new Error(`${relative(ROOT, SCHEDULING_MAIN)} is missing: the gateway e2e tests run the built scheduling service; ${build}.`);
  const sources = [join(ROOT, 'services', 'scheduling', 'src'), join(ROOT, 'libs')];
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'testing' && entry.name !== 'node_modules') walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
        const built = join(ROOT, 'dist', relative(ROOT, path)).replace(/\.ts$/, '.js');
        if (!existsSync(built) || statSync(built).mtimeMs < statSync(path).mtimeMs) stale.push(relative(ROOT, path));
      }
    }
  };
  sources.forEach(walk);
  if (stale.length) throw new Error(`dist/ is older than ${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ` and ${stale.length - 5} more` : ''}; ${build}.`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export type SchedulingProcess = { url: string; child: ChildProcess; output: () => string; stop: () => Promise<void> };

/** Starts the built scheduling service in `env` and waits until it is ready. */
export async function startScheduling(env: TestEnvironment, extra: Record<string, string> = {}): Promise<SchedulingProcess> {
  assertSchedulingBuilt();
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', join(ROOT, 'tools', 'register-paths.js'), SCHEDULING_MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ...env.env({ PORT: String(port), HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', OUTBOX_POLL_INTERVAL_MS: '100', ...extra }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`scheduling exited with ${child.exitCode} before it was ready:\n${output}`);
    const ready = await fetch(`${url}/health/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`scheduling was not ready within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export class HttpTestClient {
  private readonly pool: Pool;

  constructor(readonly url: string) {
    this.pool = new Pool(url, { connections: 32 });
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await this.pool.request({ method: method as 'GET', path, headers, body });
    const text = await response.body.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: response.statusCode, headers: response.headers, text, body: parsed as any };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

export type GatewayStack = {
  env: TestEnvironment;
  scheduling: SchedulingProcess;
  /** Straight to scheduling, for seeding fixtures without going through the gateway. */
  direct: HttpTestClient;
  gateway: HttpTestClient;
  app: INestApplication;
  config: ApiGatewayConfig;
  /** The test database, searching the scheduling schema first. */
  db: Knex;
  token: (claims: Claims, options?: TokenOptions) => Promise<string>;
  /** Another gateway instance on the same scheduling service and database (e.g. with other limits). */
  startGateway: (env?: Record<string, string>) => Promise<{ app: INestApplication; client: HttpTestClient; close: () => Promise<void> }>;
  close: () => Promise<void>;
};

/** Scheduling (child process) and the gateway (in this process) on a private database and Kafka namespace. */
export async function startGatewayStack(options: { env?: Record<string, string>; schedulingEnv?: Record<string, string> } = {}): Promise<GatewayStack> {
  const env = new TestEnvironment();
  const secret = randomBytes(32).toString('hex');
  const scheduling = await startScheduling(env, options.schedulingEnv);
  const gateways: { close: () => Promise<void> }[] = [];
  const startGateway = async (extra: Record<string, string> = {}) => {
    const config = loadApiGatewayConfig(
      env.env({
        SCHEDULING_URL: scheduling.url,
        JWT_SECRET: secret,
        JWT_ISSUER: TEST_ISSUER,
        JWT_AUDIENCE: TEST_AUDIENCE,
        RATE_LIMIT_KEY_PREFIX: `rl:${env.id}`,
        ...options.env,
        ...extra,
      }),
    );
    const app = await createGatewayApp(config);
    await app.listen(0, '127.0.0.1');
    const client = new HttpTestClient(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`);
    const handle = {
      app,
      client,
      config,
      close: async () => {
        await client.close();
        await app.close();
      },
    };
    gateways.push(handle);
    return handle;
  };
  const main = await startGateway();
  const db = createKnex(env.databaseUrl, 'scheduling', 4);
  const direct = new HttpTestClient(scheduling.url);
  const token = (claims: Claims, o: TokenOptions = {}) => {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setIssuer(o.issuer ?? TEST_ISSUER)
      .setAudience(o.audience ?? TEST_AUDIENCE)
      .setExpirationTime(o.expiresIn ?? '10m');
    if (o.notBefore !== undefined) jwt.setNotBefore(o.notBefore);
    return jwt.sign(new TextEncoder().encode(o.secret ?? secret));
  };
  return {
    env,
    scheduling,
    direct,
    gateway: main.client,
    app: main.app,
    config: main.config,
    db,
    token,
    startGateway,
    close: async () => {
      await Promise.allSettled(gateways.map((g) => g.close()));
      await direct.close();
      await scheduling.stop();
      await db.destroy();
      await env.destroy();
    },
  };
}

/** A provider open around the clock in Tokyo (no DST, so its grid is :00 and :30 UTC), free, bookable a year ahead. */
export function roundTheClockProvider(overrides: Record<string, unknown> = {}) {
  const day = ['00:00', '24:00'];
  return {
    name: 'Dr. Round The Clock',
    timeZone: 'Asia/Tokyo',
    slotDurationMinutes: 30,
    workingHours: { MON: day, TUE: day, WED: day, THU: day, FRI: day, SAT: day, SUN: day },
    bookingHorizonDays: 365,
    ...overrides,
  };
}

/** Distinct bookable slot starts, from two days ahead: each call returns the next one. */
export function slotSequence(): () => string {
  const base = Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 2 * 86_400_000;
  let next = 0;
  return () => new Date(base + next++ * 30 * 60_000).toISOString();
}

/** Row counts of every table a request could change (the outbox is left out: the relay empties it on its own). */
export async function rowCounts(db: Knex): Promise<Record<string, number>> {
  const tables = ['scheduling.providers', 'scheduling.blocked_times', 'scheduling.appointments', 'scheduling.events', 'scheduling.idempotency_keys', 'gateway.idempotency_keys'];
  const counts: Record<string, number> = {};
  for (const table of tables) counts[table] = Number((await db(table).count<{ count: string }[]>('* as count'))[0].count);
  return counts;
}
