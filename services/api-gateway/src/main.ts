import 'reflect-metadata';
import { ConfigError, Platform } from '@booking/platform';
import { loadApiGatewayConfig } from './config';
import { createGatewayApp } from './gateway-app';

async function main(): Promise<void> {
  const config = loadApiGatewayConfig();
  const app = await createGatewayApp(config);
  await app.listen(config.PORT, config.HTTP_HOST);
  const url = `http://${config.HTTP_HOST}:${config.PORT}`;
  app.get(Platform).logger.info({ url, docs: `${url}/docs`, openapi: `${url}/openapi.json` }, 'api-gateway listening');
}

main().catch((error) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack ?? error}\n`);
  process.exit(1);
});
