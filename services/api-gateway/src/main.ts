import './tracing';
import 'reflect-metadata';
import { ConfigError } from '@booking/platform/config';
import { loadApiGatewayConfig } from './config';

async function main(): Promise<void> {
  const config = loadApiGatewayConfig();
  // Loaded once the configuration is accepted, so that a refused one fails at once.
  const [{ Platform }, { createGatewayApp }] = await Promise.all([import('@booking/platform'), import('./gateway-app')]);
  const app = await createGatewayApp(config);
  await app.listen(config.PORT, config.HTTP_HOST);
  const url = `http://${config.HTTP_HOST}:${config.PORT}`;
  app.get(Platform).logger.info({ url, docs: `${url}/docs`, openapi: `${url}/openapi.json` }, 'api-gateway listening');
}

main().catch((error) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack ?? error}\n`);
  process.exit(1);
});
