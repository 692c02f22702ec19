import { z } from 'zod';

/** Every event that crosses a service boundary travels in this envelope (ARCHITECTURE.md, decision 4). */
export const envelopeSchema = z
  .object({
    eventId: z.string().uuid(),
    type: z.string().min(1).max(100),
    schemaVersion: z.number().int().positive(),
    occurredAt: z.string().datetime({ offset: false }),
    aggregateId: z.string().min(1).max(200),
    aggregateVersion: z.number().int().nonnegative(),
    correlationId: z.string().min(1).max(200),
    causationId: z.string().max(200).nullable(),
    data: z.record(z.unknown()),
  })
  .strict();

export type Envelope<TData = Record<string, unknown>> = Omit<z.infer<typeof envelopeSchema>, 'data'> & {
  data: TData;
};

/** Kafka headers set on every message; the type is duplicated there so routers need not parse the body. */
export const HEADER_EVENT_TYPE = 'event-type';
export const HEADER_CORRELATION_ID = 'x-correlation-id';
export const HEADER_EVENT_ID = 'event-id';
