import { INestApplication } from '@nestjs/common';
import { createHttpApp, Platform } from '@booking/platform';
import { TestEnvironment } from '@booking/platform/testing';
import { AppModule } from '../app.module';
import { Clock } from '../clock';
import { loadReminderConfig } from '../config';

/** The real service (HTTP, consumers, workers, relay) inside a test environment, on a random port. */
export async function startReminderApp(env: TestEnvironment, clock: Clock, extra: Record<string, string> = {}): Promise<INestApplication> {
  const config = loadReminderConfig(env.env({ REMINDER_POLL_INTERVAL_MS: '20', OUTBOX_POLL_INTERVAL_MS: '50', ...extra }));
  const app = await createHttpApp(AppModule.forRoot(config, clock), config);
  await app.listen(0, '127.0.0.1');
  await app.get(Platform).untilKafkaConnected();
  return app;
}

export async function baseUrl(app: INestApplication): Promise<string> {
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}
