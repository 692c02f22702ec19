import { Parser } from '@asyncapi/parser';
import { asyncApiDocument } from './asyncapi';
import { eventContracts } from './events';
import { goldenSamples, jsonSchemaErrors } from './testing';
import { ALL_TOPICS, dlqTopic } from './topics';

const doc = asyncApiDocument() as any;

describe('the AsyncAPI document', () => {
  it('is a valid AsyncAPI 3 document, by the AsyncAPI parser, without errors or warnings', async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    // Severity 0 is an error, 1 a warning.
    expect(diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.version()).toBe('3.0.0');
    expect(document!.channels().all().map((c) => c.address()).sort()).toEqual([...ALL_TOPICS, ...ALL_TOPICS.map(dlqTopic)].sort());
    const published = document!.channels().all().find((c) => c.address() === 'payment.v1')!;
    expect(published.messages().all().map((m) => m.name()).sort()).toEqual(['CreditIssued', 'PaymentFailed', 'PaymentSucceeded', 'RefundIssued']);
  });

  it('would be refused by the parser if broken, so the check above is live', async () => {
    const broken = { ...doc, operations: { ...doc.operations, publishPaymentV1: { ...doc.operations.publishPaymentV1, channel: { $ref: '#/channels/nowhere' } } } };
    const { diagnostics } = await new Parser().parse(JSON.stringify(broken));
    expect(diagnostics.filter((d) => d.severity === 0).length).toBeGreaterThan(0);
  });

  it('has a message per event type on its topic, with the key, the headers and trace context', () => {
    for (const [type, contract] of Object.entries(eventContracts)) {
      const channel = Object.values(doc.channels as Record<string, any>).find((c) => c.address === contract.topic);
      expect(channel.messages[type]).toEqual({ $ref: `#/components/messages/${type}` });
      const message = doc.components.messages[type];
      expect(message.bindings.kafka.key.type).toBe('string');
      expect(message.payload.properties.schemaVersion.const).toBe(contract.version);
    }
    expect(Object.keys(doc.components.schemas.Headers.properties)).toEqual(expect.arrayContaining(['event-type', 'event-id', 'x-correlation-id', 'traceparent']));
  });

  // The document describes each type at its current version; older versions' samples are read through
  // their upcasters (contracts.spec.ts).
  const currentSamples = goldenSamples().filter((s) => s.envelope.schemaVersion === eventContracts[s.type as keyof typeof eventContracts].version);
  it('has a current-version golden sample of every type', () => {
    expect(new Set(currentSamples.map((s) => s.type))).toEqual(new Set(Object.keys(eventContracts)));
  });

  it.each(currentSamples.map((s) => [s.file, s] as const))('the message schema accepts the golden sample %s', (_, sample) => {
    const schema = doc.components.messages[sample.type].payload;
    expect(jsonSchemaErrors(`asyncapi:${sample.type}`, schema, sample.envelope)).toEqual([]);
  });
});
