import { z } from 'zod';

/**
 * Every event that crosses a service boundary travels in this envelope (ARCHITECTURE.md, decision 4).
 * A tolerant reader: fields it does not know are dropped, not refused, so a producer can add one
 * (a trace context, say) before every consumer is redeployed.
 */
export const envelopeSchema = z.object({
  eventId: z.string().uuid().describe('Unique per event; consumers\' inboxes drop a redelivered id'),
  type: z.string().min(1).max(100).describe('The event type, also in the `event-type` header'),
  schemaVersion: z.number().int().positive().describe('Version of the type\'s data schema; older versions are upcast by readers'),
  occurredAt: z.string().datetime({ offset: false }).describe('When it happened, UTC'),
  aggregateId: z.string().min(1).max(200).describe('The aggregate (appointment or provider) id; also the message key'),
  aggregateVersion: z.number().int().nonnegative().describe('Position of the event in its aggregate\'s stream'),
  correlationId: z.string().min(1).max(200).describe('The request or job that caused it, also in the `x-correlation-id` header'),
  causationId: z.string().max(200).nullable().describe('The event id that caused it, or null'),
  data: z.record(z.unknown()),
});

export type Envelope<TData = Record<string, unknown>> = Omit<z.infer<typeof envelopeSchema>, 'data'> & {
  data: TData;
};

/** Kafka headers set on every message; the type is duplicated there so routers need not parse the body. */
export const HEADER_EVENT_TYPE = 'event-type';
export const HEADER_CORRELATION_ID = 'x-correlation-id';
export const HEADER_EVENT_ID = 'event-id';
