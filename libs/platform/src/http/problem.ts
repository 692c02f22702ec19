import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ProblemCode, ProblemStatus } from '@booking/contracts';

export type ProblemDetails = {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance?: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
};

/**
 * An error the client can act on, answered as RFC 9457 problem+json with a stable code: one of
 * PROBLEM_CODES (@booking/contracts), with one of that code's statuses (checked when compiling).
 */
export class ProblemError<C extends ProblemCode = ProblemCode> extends HttpException {
  constructor(
    status: ProblemStatus<C>,
    readonly code: C,
    detail: string,
    readonly extras: Partial<ProblemDetails> = {},
    /** Headers the answer carries too (such as Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail, status);
  }

  /**
   * A problem answered before, elsewhere: scheduling's, passed on by the gateway, or a stored answer
   * replayed. Its status and code go on as they were (a newer scheduling may know a code this
   * release does not).
   */
  static passedOn(status: number, code: string, detail: string, extras: Partial<ProblemDetails> = {}, headers: Record<string, string> = {}): ProblemError {
    return new ProblemError(status as ProblemStatus<ProblemCode>, code as ProblemCode, detail, extras, headers);
  }
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  408: 'Request Timeout',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const codes: Record<number, ProblemCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

export function problem(status: number, code: ProblemCode, detail: string, extras: Partial<ProblemDetails> = {}): ProblemDetails {
  return {
    type: `https://booking.example/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: titles[status] ?? 'Error',
    status,
    code,
    detail,
    ...extras,
  };
}

/**
 * Every error leaves as problem+json. Anything unknown is a 500 that is logged, with no internals exposed.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    /** When given, an unrouted request whose path another method answers gets 405 with Allow. */
    private readonly routes?: { allowed(url: string): string[] },
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const reply = context.getResponse<FastifyReply>();
    const request = context.getRequest<FastifyRequest>();
    let body = this.toProblem(exception);
    body.instance = request.url;
    const allow = body.status === 404 && !(exception instanceof ProblemError) ? (this.routes?.allowed(request.url) ?? []) : [];
    if (allow.length && !allow.includes(request.method)) {
      // The path exists, the method does not: 405 naming the methods it takes.
      body = problem(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed here; this path answers ${allow.join(', ')}.`, { instance: request.url });
      reply.header('allow', allow.join(', '));
    }
    if (body.status >= 500) this.logger.error({ err: exception, path: request.url }, 'request failed');
    if (reply.sent) return;
    if (exception instanceof ProblemError) reply.headers(exception.headers);
    reply.status(body.status).type('application/problem+json').send(JSON.stringify(body));
  }

  private toProblem(exception: unknown): ProblemDetails {
    if (exception instanceof ProblemError) {
      return problem(exception.getStatus(), exception.code, exception.message, exception.extras);
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response && 'message' in response
          ? [(response as { message: unknown }).message].flat().join('; ')
          : exception.message;
      return problem(status, codes[status] ?? 'HTTP_ERROR', message);
    }
    return problem(HttpStatus.INTERNAL_SERVER_ERROR, 'INTERNAL', 'An unexpected error occurred; it has been logged.');
  }
}
