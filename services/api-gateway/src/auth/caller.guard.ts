import { CanActivate, createParamDecorator, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError } from '@booking/platform';
import { CallerRateLimiter } from '../rate-limit/caller-rate-limiter';
import { bearerToken, JwtVerifier } from './jwt-verifier';
import { Principal } from './principal';

type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/**
 * Every /v1 request: verify the bearer token, then count the request against its caller's rate
 * limit — the token's subject, or the client address when there is no valid token (so floods of bad
 * tokens are limited too). The limit headers go on every answer, 401 and 429 included.
 */
@Injectable()
export class CallerGuard implements CanActivate {
  constructor(
    @Inject(JwtVerifier) private readonly verifier: JwtVerifier,
    @Inject(CallerRateLimiter) private readonly limiter: CallerRateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const response = http.getResponse<FastifyReply>();
    let principal: Principal | undefined;
    let refusal: ProblemError | undefined;
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      refusal = new ProblemError(401, 'UNAUTHENTICATED', 'A bearer token is required: Authorization: Bearer <JWT>.');
      response.header('WWW-Authenticate', 'Bearer realm="booking"');
    } else {
      try {
        principal = await this.verifier.verify(token);
      } catch (error) {
        if (!(error instanceof ProblemError)) throw error;
        refusal = error;
        if (error.getStatus() === 401) response.header('WWW-Authenticate', 'Bearer realm="booking", error="invalid_token"');
      }
    }
    const verdict = await this.limiter.consume(principal ? `sub:${principal.subject}` : `ip:${request.ip ?? 'unknown'}`);
    response.header('RateLimit-Limit', String(verdict.limit));
    response.header('RateLimit-Remaining', String(verdict.remaining));
    response.header('RateLimit-Reset', String(verdict.resetSeconds));
    response.header('RateLimit-Policy', `${verdict.limit};w=60`);
    if (!verdict.allowed) {
      response.header('Retry-After', String(verdict.resetSeconds));
      throw new ProblemError(429, 'RATE_LIMITED', `Too many requests: at most ${verdict.limit} a minute; retry in ${verdict.resetSeconds} s.`);
    }
    if (refusal) throw refusal;
    request.principal = principal;
    return true;
  }
}

/** The Principal the CallerGuard verified. */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('Caller used on a route without CallerGuard');
  return principal;
});
