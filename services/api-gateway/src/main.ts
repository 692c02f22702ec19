import './tracing';
import 'reflect-metadata';
import { ConfigError } from '@booking/platform/config';
import { loadApiGatewayConfig } from './config';

async function main(): Promise<void> {
  const config = loadApiGatewayConfig();
  // Loaded once the configuration is accepted, so that a refused one fails at once.
  const [{ serve }, { createGatewayApp }] = await Promise.all([import('@booking/platform'), import('./gateway-app')]);
  const app = await createGatewayApp(config);
  await serve(app, { ...config, port: config.PORT }, (url) => ({ docs: `${url}/docs`, openapi: `${url}/openapi.json` }));
}

main().catch((error) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack ?? error}\n`);
  process.exit(1);
});
