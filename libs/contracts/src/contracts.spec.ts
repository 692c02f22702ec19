import { z } from 'zod';
import { envelopeSchema } from './envelope';
import { ContractRegistry, eventContracts, eventDataSchemas, UnreadableEventError, upcastEventData } from './events';
import { breaksOlderReader, toJsonSchema } from './json-schema';
import { closed, frozenSchema, goldenSamples, jsonSchemaErrors } from './testing';
import { ALL_TOPICS } from './topics';

const contracts = Object.entries(eventContracts);
const samples = goldenSamples();

describe('event contracts', () => {
  it('every type travels on a known topic and has a version', () => {
    for (const [, contract] of contracts) {
      expect(ALL_TOPICS).toContain(contract.topic);
      expect(Number.isInteger(contract.version) && contract.version >= 1).toBe(true);
    }
  });

  it.each(contracts)('%s has a golden sample and a frozen schema for every version it reads', (type, contract) => {
    for (let version = 1; version <= contract.version; version++) {
      expect(samples.some((s) => s.type === type && s.version === version)).toBe(true);
      expect(frozenSchema(type, version)).toBeDefined();
    }
    // A version older than the first with an upcaster chain to the current one is not read any more.
    for (let version = 1; version < contract.version; version++) expect(contract.upcasters[version]).toBeDefined();
  });

  it('every sample is named after its own type and version, of a known contract', () => {
    for (const sample of samples) {
      expect(sample.envelope.type).toBe(sample.type);
      expect(sample.envelope.schemaVersion).toBe(sample.version);
      expect(Object.keys(eventContracts)).toContain(sample.type);
      expect(envelopeSchema.safeParse(sample.envelope).success).toBe(true);
    }
  });

  // Newer readers read older events: every version's sample, upcast, fits the current schema.
  it.each(samples.map((s) => [s.file, s] as const))('%s reads with the current contract', (_, sample) => {
    const contract = eventContracts[sample.type as keyof typeof eventContracts];
    const data = upcastEventData(eventContracts, sample.type, sample.version, sample.envelope.data);
    const parsed = contract.schema.safeParse(data);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  });

  // The samples declare only what their version declares, so they show every field that travels.
  it.each(samples.map((s) => [s.file, s] as const))('%s matches the frozen schema of its version, every field declared', (_, sample) => {
    const schema = closed(frozenSchema(sample.type, sample.version)) as Record<string, unknown>;
    expect(jsonSchemaErrors(`closed:${sample.file}`, schema, sample.envelope.data)).toEqual([]);
  });

  // Older readers read newer events: the current schema may only add to what the version was frozen with.
  it.each(contracts)('%s: the current schema keeps what readers of its version rely on', (type, contract) => {
    expect(breaksOlderReader(frozenSchema(type, contract.version)!, toJsonSchema(contract.schema))).toEqual([]);
  });
});

describe('breaksOlderReader', () => {
  const frozen = frozenSchema('AppointmentConfirmed', 1)!;
  const current = eventDataSchemas.AppointmentConfirmed;

  it('lets a version gain an optional field', () => {
    expect(breaksOlderReader(frozen, toJsonSchema(current.extend({ roomNumber: z.string().optional() })))).toEqual([]);
  });

  it('catches a removed, a no longer required, a retyped field and a widened enum', () => {
    expect(breaksOlderReader(frozen, toJsonSchema(current.omit({ paymentId: true })))).toEqual(['(data).paymentId is required by older readers but no longer required', '(data).paymentId was removed']);
    expect(breaksOlderReader(frozen, toJsonSchema(current.extend({ amountMinor: z.number().int().nonnegative().optional() })))).toEqual([
      '(data).amountMinor is required by older readers but no longer required',
    ]);
    expect(breaksOlderReader(frozen, toJsonSchema(current.extend({ amountMinor: z.string() })))).toEqual([
      '(data).amountMinor changed from {"minimum":0,"type":"integer"} to {"type":"string"}',
    ]);
    expect(breaksOlderReader(frozen, toJsonSchema(current.extend({ reason: z.enum(['PAYMENT_SUCCEEDED', 'NO_PAYMENT_REQUIRED', 'VOUCHER']).optional() })))).toHaveLength(1);
  });

  it('looks into nested objects', () => {
    const withoutZone = current.extend({ client: z.object({ email: z.string().email() }).passthrough() });
    expect(breaksOlderReader(frozen, toJsonSchema(withoutZone))).toContain('(data).client.timeZone was removed');
  });
});

describe('upcastEventData', () => {
  const registry: ContractRegistry = {
    Renamed: {
      ...eventContracts.PaymentFailed,
      version: 3,
      upcasters: {
        1: ({ why, ...rest }) => ({ ...rest, reason: why }),
        2: (data) => {
          if (typeof data.reason !== 'string') throw new Error('reason must be a string');
          return { ...data, reason: data.reason.toLowerCase() };
        },
      },
    },
  };

  it('runs the chain from the written version to the current one', () => {
    expect(upcastEventData(registry, 'Renamed', 1, { why: 'CARD_DECLINED', paymentId: 'p' })).toEqual({ reason: 'card_declined', paymentId: 'p' });
    expect(upcastEventData(registry, 'Renamed', 3, { reason: 'X' })).toEqual({ reason: 'X' });
  });

  it('refuses a version newer than it knows, or one without an upcaster, saying why', () => {
    expect(() => upcastEventData(registry, 'Renamed', 4, {})).toThrow(new UnreadableEventError(
      'Renamed schemaVersion 4 is newer than this consumer reads (3); deploy a consumer that knows it, then replay the dead letter',
    ));
    expect(() => upcastEventData({ Renamed: { ...registry.Renamed, upcasters: {} } }, 'Renamed', 2, {})).toThrow('Renamed schemaVersion 2 cannot be read: no upcaster from version 2 to 3');
    expect(() => upcastEventData(registry, 'Renamed', 2, { reason: 7 })).toThrow('Renamed schemaVersion 2 could not be upcast from version 2: reason must be a string');
  });

  it('leaves types it does not know to the caller', () => {
    expect(upcastEventData(registry, 'Unknown', 1, {})).toBeUndefined();
  });
});
