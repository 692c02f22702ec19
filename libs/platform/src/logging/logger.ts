import type { LoggerService } from '@nestjs/common';
import pino, { Level, Logger } from 'pino';
import { Context, context, trace } from '@opentelemetry/api';
import { currentCorrelation } from './correlation';
import { REDACT_PATHS, REDACTED } from './redaction';

/** The trace and span ids of the current trace context, for log lines (nothing when not traced). */
function traceFields(ctx: Context): { trace_id?: string; span_id?: string } {
  const span = trace.getSpanContext(ctx);
  return span && trace.isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
}

/**
 * Whether log lines are written for a person: when standard output is a terminal (`npm start` in a
 * shell) and not in production. Anything else (a file, a pipe, a log collector, the tests) gets JSON.
 */
export function prettyLogsWanted(out: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return out.isTTY === true && env.NODE_ENV !== 'production';
}

/**
 * pino-pretty (a development dependency, so absent from production images: then JSON it is) as a
 * synchronous stream: one readable line per entry, the service's name first, fields below it.
 */
export function prettyDestination(destination: NodeJS.WritableStream = process.stdout): pino.DestinationStream | undefined {
  let build: (options: import('pino-pretty').PrettyOptions) => pino.DestinationStream;
  try {
    build = require('pino-pretty') as typeof build;
  } catch {
    return undefined;
  }
  return build({
    colorize: (destination as { isTTY?: boolean }).isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,name',
    messageFormat: '{service}: {msg}',
    sync: true,
    destination,
  });
}

/**
 * Structured logs; every line written inside a correlation context carries its id, and no line
 * carries a credential or a contact detail in clear (REDACT_PATHS). JSON, or readable text on a
 * terminal in development (prettyLogsWanted). `destination` is for tests.
 */
export function createLogger(service: string, level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name: service,
    level,
    base: { service },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const correlation = currentCorrelation();
      const traced = traceFields(correlation?.trace ?? context.active());
      return correlation ? { correlationId: correlation.correlationId, ...traced } : traced;
    },
  };
  if (destination) return pino(options, destination);
  const pretty = prettyLogsWanted() ? prettyDestination() : undefined;
  return pretty ? pino(options, pretty) : pino(options);
}

/**
 * Nest's own messages (start-up, routes, unhandled errors) written through the service's pino logger,
 * with Nest's context (the class that logged) as `context`. Lines logged inside a request carry its
 * correlation id through the logger's mixin, so no per-request child logger is needed.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    // Nest passes its context last; ExceptionsHandler calls error(message, stack, context).
    if (params.length > 0 && typeof params[params.length - 1] === 'string') fields.context = params[params.length - 1];
    const rest = params.slice(0, fields.context === undefined ? params.length : -1);
    if (message instanceof Error) {
      fields.err = message;
      this.logger[level](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level](Object.assign(fields, message));
    } else if (level === 'error' && rest.length === 1 && typeof rest[0] === 'string' && rest[0].includes('\n')) {
      const err = new Error(String(message));
      err.stack = rest[0];
      fields.err = err;
      this.logger.error(fields, String(message));
    } else {
      this.logger[level](fields, rest.length ? [message, ...rest].map(String).join(' ') : String(message));
    }
  }
}

export type { Logger };
