import helmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiGatewayConfig } from './config';

/** Headers a browser may send and read across origins: what the API's clients use. */
const CORS_REQUEST_HEADERS = ['authorization', 'content-type', 'idempotency-key', 'if-none-match', 'x-correlation-id'];
const CORS_RESPONSE_HEADERS = ['etag', 'location', 'retry-after', 'x-correlation-id', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'availability-fresh-for'];

/**
 * Security headers on every answer (@fastify/helmet) and CORS for the configured origins only
 * (@fastify/cors through Nest's enableCors, which answers preflights before authentication).
 * The content security policy admits only the gateway's own scripts, styles and images, plus the
 * inline styles and data: images Swagger UI uses on /docs; JSON answers are not rendered anyway.
 */
export async function installHttpSecurity(app: NestFastifyApplication, config: Pick<ApiGatewayConfig, 'CORS_ALLOWED_ORIGINS'>): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // Answers are for the API's callers, not for embedding in other origins' pages.
    crossOriginResourcePolicy: { policy: config.CORS_ALLOWED_ORIGINS.length ? 'cross-origin' : 'same-origin' },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  });
  if (config.CORS_ALLOWED_ORIGINS.length) {
    app.enableCors({
      origin: config.CORS_ALLOWED_ORIGINS,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: CORS_REQUEST_HEADERS,
      exposedHeaders: CORS_RESPONSE_HEADERS,
      maxAge: 600,
    });
  }
}
