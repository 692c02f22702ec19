import pino, { Logger } from 'pino';
import { currentCorrelation } from './correlation';

/** Structured JSON logs; every line written inside a correlation context carries its id. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const context = currentCorrelation();
      return context ? { correlationId: context.correlationId } : {};
    },
  });
}

export type { Logger };
