import { Envelope, envelopeSchema, eventDataSchemas } from '@booking/contracts';

export class EnvelopeDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeDecodeError';
  }
}

/** Parses and validates a message body: the envelope, then the data against its type's schema. */
export function decodeEnvelope(value: Buffer | null): Envelope {
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
  const schema = Object.hasOwn(eventDataSchemas, envelope.data.type)
    ? eventDataSchemas[envelope.data.type as keyof typeof eventDataSchemas]
    : undefined;
  if (schema) {
    const data = schema.safeParse(envelope.data.data);
    if (!data.success) {
      throw new EnvelopeDecodeError(`invalid ${envelope.data.type} data: ${formatIssues(data.error.issues)}`);
    }
    return { ...envelope.data, data: data.data as Record<string, unknown> };
  }
  return envelope.data;
}

function formatIssues(issues: { path: (string | number)[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
