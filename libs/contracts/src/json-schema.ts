import { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';

export type JsonSchema = { [key: string]: unknown };

/** A zod schema as a self-contained JSON Schema (draft 7, no $refs), as AsyncAPI and the frozen contracts use it. */
export function toJsonSchema(schema: z.ZodTypeAny): JsonSchema {
  // zodToJsonSchema's generic signature sends the compiler into deep instantiation; its result is plain JSON anyway.
  const convert = zodToJsonSchema as unknown as (schema: unknown, options: object) => JsonSchema;
  const { $schema: _, ...json } = convert(schema, { $refStrategy: 'none', target: 'jsonSchema7' });
  return json;
}

const isObject = (value: unknown): value is JsonSchema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The schema without its descriptions: what a reader checks, not what a person reads. */
function checked(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(checked);
  if (!isObject(schema)) return schema;
  return Object.fromEntries(Object.entries(schema).filter(([key]) => key !== 'description').map(([key, value]) => [key, checked(value)]));
}

const stable = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) => (isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));

/**
 * What in `current` would break a reader built on `frozen` (the schema a version was published
 * with), as one line per problem; empty when compatible. Objects may gain properties (readers are
 * tolerant); a property the frozen schema knows must stay, stay required if it was, and keep its
 * schema exactly (a retyped field, a new enum value, a looser pattern could all be refused by the
 * older reader, so any change to it counts — it takes a new version).
 */
export function breaksOlderReader(frozen: JsonSchema, current: JsonSchema, path = '(data)'): string[] {
  const frozenProperties = frozen.properties;
  const currentProperties = current.properties;
  if (!isObject(frozenProperties) || !isObject(currentProperties)) {
    return stable(checked(frozen)) === stable(checked(current)) ? [] : [`${path} changed from ${stable(checked(frozen))} to ${stable(checked(current))}`];
  }
  const problems: string[] = [];
  const required = new Set((current.required as string[] | undefined) ?? []);
  for (const key of (frozen.required as string[] | undefined) ?? []) {
    if (!required.has(key)) problems.push(`${path}.${key} is required by older readers but no longer required`);
  }
  for (const [key, schema] of Object.entries(frozenProperties)) {
    if (!Object.hasOwn(currentProperties, key)) problems.push(`${path}.${key} was removed`);
    else problems.push(...breaksOlderReader(schema as JsonSchema, currentProperties[key] as JsonSchema, `${path}.${key}`));
  }
  if (frozen.additionalProperties === false) {
    for (const key of Object.keys(currentProperties)) {
      if (!Object.hasOwn(frozenProperties, key)) problems.push(`${path}.${key} was added where older readers refuse unknown fields`);
    }
  }
  return problems;
}
