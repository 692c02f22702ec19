import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProblemError } from '@booking/platform';

/**
 * A body the JSON parser skipped (another content type) would reach the handlers as "no body",
 * which for cancel or complete means "do it": such requests are refused with 415 instead.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const length = request.headers['content-length'];
    const hasBody = request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (hasBody && !isJson(request.headers['content-type'])) {
      throw new ProblemError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Request bodies must be JSON: Content-Type: application/json.');
    }
    return true;
  }
}

/** `application/json`, with or without parameters such as `; charset=utf-8`. */
function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';', 1)[0].trim().toLowerCase() === 'application/json';
}
