import { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { BaseConfig } from '../config/config';
import { NestPinoLogger } from '../logging/logger';
import { Platform } from '../platform';
import type { NextFunction, Request, Response } from 'express';
import { problem, ProblemFilter } from './problem';
import { requestContext } from './request-context';

/** The body parser's own errors (bad JSON, too large, wrong charset) are the client's: answer them here. */
function bodyParserErrors(error: { type?: string; status?: number; message?: string }, req: Request, res: Response, next: NextFunction): void {
  if (!error?.type || typeof error.status !== 'number' || error.status >= 500) return next(error);
  const body =
    error.type === 'entity.parse.failed'
      ? problem(400, 'MALFORMED_JSON', 'The request body is not valid JSON.')
      : error.type === 'entity.too.large'
        ? problem(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large.')
        : problem(error.status, 'UNREADABLE_BODY', error.message ?? 'The request body could not be read.');
  body.instance = req.originalUrl;
  res.status(body.status).type('application/problem+json').send(JSON.stringify(body));
}

export type HttpSettings = Pick<BaseConfig, 'HTTP_HOST' | 'HTTP_BODY_LIMIT'> & { port: number };

/** Builds a service's HTTP app the same way in production and in e2e tests. */
export async function createHttpApp(module: unknown, settings: Pick<HttpSettings, 'HTTP_BODY_LIMIT'>): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module as Type, { bufferLogs: true, bodyParser: false });
  const platform = app.get(Platform);
  app.useLogger(new NestPinoLogger(platform.logger));
  // First, so every answer (body-parser refusals and unknown routes included) carries the correlation id.
  app.use(requestContext(platform.logger));
  app.useBodyParser('json', { limit: settings.HTTP_BODY_LIMIT, strict: true });
  app.use(bodyParserErrors);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.useGlobalFilters(new ProblemFilter(platform.logger));
  app.enableShutdownHooks();
  return app;
}

/** Starts a service: listens, prints where to reach it, and stops cleanly on SIGINT/SIGTERM. */
export async function runService(module: unknown, settings: HttpSettings): Promise<INestApplication> {
  const app = await createHttpApp(module, settings);
  await app.listen(settings.port, settings.HTTP_HOST);
  const platform = app.get(Platform);
  platform.logger.info({ url: `http://${settings.HTTP_HOST}:${settings.port}` }, `${platform.options.service} listening`);
  return app;
}
