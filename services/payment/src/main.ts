import 'reflect-metadata';
import { ConfigError, runService } from '@booking/platform';
import { AppModule } from './app.module';
import { loadPaymentConfig } from './config';

async function main(): Promise<void> {
  const config = loadPaymentConfig();
  await runService(AppModule.forRoot(config), { ...config, port: config.PORT });
}

main().catch((error) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack ?? error}\n`);
  process.exit(1);
});
