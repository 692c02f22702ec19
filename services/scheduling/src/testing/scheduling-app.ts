import type { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { createHttpApp, Platform } from '@booking/platform';
import { TestEnvironment } from '@booking/platform/testing';
import { AppModule } from '../app.module';
import { loadSchedulingConfig } from '../config';
import { Clock } from '../shared/clock';

/** A clock tests can set and move. */
export class TestClock extends Clock {
  constructor(private current: Date) {
    super();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(iso: string | Date): void {
    this.current = new Date(iso);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export type SchedulingTestApp = {
  app: INestApplication;
  url: string;
  platform: Platform;
  clock: TestClock;
  env: TestEnvironment;
  request: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: any; headers: Headers }>;
  close: () => Promise<void>;
};

/** Boots the real scheduling service (HTTP, Postgres, Kafka) in a private test environment. */
export async function startSchedulingApp(options: { now: string; env?: Record<string, string>; environment?: TestEnvironment }): Promise<SchedulingTestApp> {
  const env = options.environment ?? new TestEnvironment();
  const config = loadSchedulingConfig(env.env({ EXPIRY_SWEEP_INTERVAL_MS: '100', OUTBOX_POLL_INTERVAL_MS: '100', ...options.env }));
  const clock = new TestClock(new Date(options.now));
  const app = await createHttpApp(AppModule.forRoot(config, clock), config);
  await app.listen(0, '127.0.0.1');
  await app.get(Platform).untilKafkaConnected();
  const address = app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${address.port}`;
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(url + path, {
      method,
      headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as any, headers: response.headers };
  };
  return {
    app,
    url,
    platform: app.get(Platform),
    clock,
    env,
    request,
    close: async () => {
      await app.close();
      if (!options.environment) await env.destroy();
    },
  };
}

/**
 * Several instances of the service on one database and Kafka namespace, as replicas behind a load
 * balancer would be; one environment per set, closed together.
 */
export async function startSchedulingReplicas(now: string, envs: Record<string, string>[]): Promise<{ apps: SchedulingTestApp[]; close: () => Promise<void> }> {
  const environment = new TestEnvironment();
  const apps: SchedulingTestApp[] = [];
  const close = async () => {
    for (const app of apps) await app.close();
    await environment.destroy();
  };
  try {
    for (const env of envs) apps.push(await startSchedulingApp({ now, environment, env }));
  } catch (error) {
    await close();
    throw error;
  }
  return { apps, close };
}

/** A New York provider, 30-minute slots 09:00-17:00 on weekdays. */
export function newYorkProvider(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Dr. Ada Example',
    timeZone: 'America/New_York',
    slotDurationMinutes: 30,
    workingHours: { MON: ['09:00', '17:00'], TUE: ['09:00', '17:00'], WED: ['09:00', '17:00'], THU: ['09:00', '17:00'], FRI: ['09:00', '17:00'] },
    bookingHorizonDays: 365,
    contact: { email: 'ada@clinic.example', phone: '+12125550123' },
    ...overrides,
  };
}
