import { ContractRegistry, Envelope, envelopeSchema, eventContracts, UnreadableEventError, upcastEventData } from '@booking/contracts';

export class EnvelopeDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeDecodeError';
  }
}

/**
 * Parses and validates a message body: the envelope, then the data, upcast from its schemaVersion to
 * the version the contracts describe, against its type's schema. Fields neither knows are kept in
 * `data` and dropped from the envelope. A type the contracts do not know is returned unchecked (the
 * consumer skips types it has no handler for).
 */
export function decodeEnvelope(value: Buffer | null, contracts: ContractRegistry = eventContracts): Envelope {
  if (!value) throw new EnvelopeDecodeError('empty message body');
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    throw new EnvelopeDecodeError('message body is not JSON');
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    throw new EnvelopeDecodeError(`invalid envelope: ${formatIssues(envelope.error.issues)}`);
  }
  const { type, schemaVersion } = envelope.data;
  let upcast: Record<string, unknown> | undefined;
  try {
    upcast = upcastEventData(contracts, type, schemaVersion, envelope.data.data);
  } catch (error) {
    if (error instanceof UnreadableEventError) throw new EnvelopeDecodeError(error.message);
    throw error;
  }
  if (upcast === undefined) return envelope.data;
  const contract = contracts[type];
  const data = contract.schema.safeParse(upcast);
  if (!data.success) {
    throw new EnvelopeDecodeError(`invalid ${type} data (schemaVersion ${schemaVersion}): ${formatIssues(data.error.issues)}`);
  }
  return { ...envelope.data, schemaVersion: contract.version, data: data.data };
}

function formatIssues(issues: { path: (string | number)[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
