import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ProblemError } from '@booking/platform';

/**
 * A body the JSON parser skipped (another content type) would reach the handlers as "no body",
 * which for cancel or complete means "do it": such requests are refused with 415 instead.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const length = request.headers['content-length'];
    const hasBody = request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (hasBody && !request.is('application/json')) {
      throw new ProblemError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Request bodies must be JSON: Content-Type: application/json.');
    }
    return true;
  }
}
