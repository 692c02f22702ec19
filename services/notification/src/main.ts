import './tracing';
import 'reflect-metadata';
import { ConfigError } from '@booking/platform/config';
import { loadNotificationConfig } from './config';

async function main(): Promise<void> {
  const config = loadNotificationConfig();
  // Loaded once the configuration is accepted, so that a refused one fails at once.
  const [{ runService }, { AppModule }] = await Promise.all([import('@booking/platform'), import('./app.module')]);
  await runService(AppModule.forRoot(config), { ...config, port: config.PORT });
}

main().catch((error) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack ?? error}\n`);
  process.exit(1);
});
