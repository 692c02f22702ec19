import { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { createHttpApp } from '@booking/platform';
import { AppModule } from './app.module';
import { ApiGatewayConfig } from './config';
import { installHttpSecurity } from './http-security';
import { sendVerbatimJson } from './upstream/verbatim-json';

/** The OpenAPI 3 document, generated from the controllers and their zod schemas. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Booking platform API')
    .setDescription(
      'The front door of the booking platform. Bearer JWTs (roles: client, provider, admin, service). ' +
        'Errors are RFC 9457 application/problem+json with a stable `code`. Every answer carries RateLimit-* headers and x-correlation-id.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Builds the gateway exactly as production runs it (main.ts) and as e2e tests boot it: docs at /docs and /openapi.json. */
export async function createGatewayApp(config: ApiGatewayConfig): Promise<NestFastifyApplication> {
  const app = await createHttpApp(AppModule.forRoot(config), config);
  await installHttpSecurity(app, config);
  SwaggerModule.setup('docs', app, openApiDocument(app), {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'Booking platform API',
  });
  sendVerbatimJson(app);
  return app;
}
