import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { createHttpApp, problem } from '@booking/platform';
import { AppModule } from './app.module';
import { ApiGatewayConfig } from './config';
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

/**
 * Requests Node rejects before Express sees them (an oversized URL or header block, a malformed
 * request line) get a problem+json answer too, not Node's bare status line.
 */
function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason, code, detail] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'HEADERS_TOO_LARGE', 'The request line or headers are too large.']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'The request was not received in time.']
          : [400, 'Bad Request', 'MALFORMED_REQUEST', 'The request is not valid HTTP.'];
    const body = JSON.stringify(problem(status, code, detail));
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

/** Builds the gateway exactly as production runs it (main.ts) and as e2e tests boot it: docs at /docs and /openapi.json. */
export async function createGatewayApp(config: ApiGatewayConfig): Promise<INestApplication> {
  const app = await createHttpApp(AppModule.forRoot(config), config);
  SwaggerModule.setup('docs', app, openApiDocument(app), {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'Booking platform API',
  });
  answerClientErrors(app.getHttpServer() as Server);
  sendVerbatimJson(app);
  return app;
}
