import { z } from 'zod';
import { envelopeSchema, HEADER_CORRELATION_ID, HEADER_EVENT_ID, HEADER_EVENT_TYPE } from './envelope';
import { eventContracts } from './events';
import { JsonSchema, toJsonSchema } from './json-schema';
import { ALL_TOPICS, dlqTopic, Topic, TOPICS } from './topics';

/** W3C trace context headers, carried on messages when the producer traced the work. */
export const HEADER_TRACEPARENT = 'traceparent';
export const HEADER_TRACESTATE = 'tracestate';

const TOPIC_DESCRIPTIONS: Record<Topic, string> = {
  [TOPICS.appointment]: 'Appointment lifecycle, published by scheduling from its event store through its outbox. Keyed by appointment id.',
  [TOPICS.provider]: 'Provider and blocked-time changes, published by scheduling. Keyed by provider id.',
  [TOPICS.payment]: 'Charges, refunds and credits, published by payment. Keyed by appointment id, so they stay in order with the appointment\'s events.',
  [TOPICS.reminder]: 'Due reminders, published by the reminder workers. Keyed by appointment id.',
  [TOPICS.notification]: 'Delivery outcomes of notifications, published by notification. Keyed by appointment id.',
};

/** `scheduling.appointment.v1` → `schedulingAppointmentV1`: AsyncAPI ids may not contain dots. */
const channelId = (address: string) => address.replace(/[.-](\w)/g, (_, c: string) => c.toUpperCase());

const headers: JsonSchema = {
  type: 'object',
  properties: {
    [HEADER_EVENT_TYPE]: { type: 'string', description: 'The envelope `type`, so routers need not parse the body' },
    [HEADER_EVENT_ID]: { type: 'string', format: 'uuid', description: 'The envelope `eventId`' },
    [HEADER_CORRELATION_ID]: { type: 'string', description: 'The envelope `correlationId`: the request or job that caused the event' },
    [HEADER_TRACEPARENT]: {
      type: 'string',
      pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
      description: 'W3C trace context of the work that produced the event, when it was traced',
    },
    [HEADER_TRACESTATE]: { type: 'string', description: 'W3C trace state, with traceparent' },
  },
  required: [HEADER_EVENT_TYPE, HEADER_EVENT_ID, HEADER_CORRELATION_ID],
};

const deadLetterHeaders: JsonSchema = {
  ...headers,
  properties: {
    ...(headers.properties as JsonSchema),
    'dlq-reason': { type: 'string', description: 'Why the consumer gave up on the message' },
    'dlq-original-topic': { type: 'string' },
    'dlq-original-partition': { type: 'string' },
    'dlq-original-offset': { type: 'string' },
    'dlq-consumer-group': { type: 'string', description: 'The consumer group that dead-lettered it' },
    'dlq-attempts': { type: 'string', description: 'Handler attempts made (0: it could not be decoded)' },
  },
  required: ['dlq-reason', 'dlq-original-topic', 'dlq-original-partition', 'dlq-original-offset', 'dlq-consumer-group'],
};

/**
 * The AsyncAPI 3 document of every event: a channel per topic (and its dead-letter topic), a message
 * per event type with the JSON Schema of its envelope and data at the current version, the Kafka key
 * and the headers. Generated from the contracts, so it cannot drift from what consumers check.
 */
export function asyncApiDocument(): JsonSchema {
  const messages: Record<string, JsonSchema> = {};
  const channels: Record<string, JsonSchema> = {};
  const operations: Record<string, JsonSchema> = {};
  for (const [type, contract] of Object.entries(eventContracts)) {
    const payload = envelopeSchema.extend({ type: z.literal(type), schemaVersion: z.literal(contract.version), data: contract.schema });
    messages[type] = {
      name: type,
      title: type,
      summary: contract.summary,
      contentType: 'application/json',
      headers: { $ref: '#/components/schemas/Headers' },
      payload: toJsonSchema(payload),
      bindings: {
        kafka: {
          key: { type: 'string', description: contract.topic === TOPICS.provider ? 'The provider id (the envelope aggregateId)' : 'The appointment id (the envelope aggregateId)' },
          bindingVersion: '0.5.0',
        },
      },
    };
  }
  for (const topic of ALL_TOPICS) {
    const types = Object.entries(eventContracts).filter(([, c]) => c.topic === topic).map(([type]) => type);
    const refs = Object.fromEntries(types.map((type) => [type, { $ref: `#/components/messages/${type}` }]));
    const id = channelId(topic);
    channels[id] = { address: topic, title: topic, description: TOPIC_DESCRIPTIONS[topic], messages: refs };
    operations[`publish${id[0].toUpperCase()}${id.slice(1)}`] = {
      action: 'send',
      title: `Publish to ${topic}`,
      channel: { $ref: `#/channels/${id}` },
      messages: types.map((type) => ({ $ref: `#/channels/${id}/messages/${type}` })),
    };
    const dlq = `${id}Dlq`;
    channels[dlq] = {
      address: dlqTopic(topic),
      title: dlqTopic(topic),
      description: `Messages of ${topic} a consumer could not handle: the original key, value and headers plus dlq-* headers saying why. Replayed with \`npm run dlq\`.`,
      messages: { DeadLetter: { $ref: '#/components/messages/DeadLetter' } },
    };
    operations[`deadLetter${dlq[0].toUpperCase()}${dlq.slice(1)}`] = {
      action: 'send',
      title: `Dead-letter from ${topic}`,
      channel: { $ref: `#/channels/${dlq}` },
      messages: [{ $ref: `#/channels/${dlq}/messages/DeadLetter` }],
    };
  }
  messages.DeadLetter = {
    name: 'DeadLetter',
    title: 'Dead letter',
    summary: 'A message exactly as it arrived on its topic (possibly not a valid envelope at all), with why it was given up on.',
    contentType: 'application/json',
    headers: deadLetterHeaders,
    payload: {},
  };
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Booking platform events',
      version: '1.0.0',
      description:
        'Every event the booking platform publishes on Kafka, in one JSON envelope. Readers are tolerant (unknown fields are ignored); ' +
        'an additive change keeps an event type\'s schemaVersion, a breaking one raises it, and consumers of this platform upcast older versions. ' +
        'Topics may carry a deployment prefix (KAFKA_NAMESPACE).',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { schemas: { Headers: headers }, messages },
  };
}
