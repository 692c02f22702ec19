import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiParam, ApiQuery, ApiResponse, SchemaObject } from '@nestjs/swagger';
import { AnyZodObject, ZodDefault, ZodEffects, ZodOptional, ZodTypeAny } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { PROBLEM_CODE_LIST, PROBLEM_CODES, ProblemCode, problemCodesFor, problemSchema } from '@booking/contracts';

/*
 * The OpenAPI document is generated from the same zod schemas that validate requests and
 * scheduling's replies, so the document cannot drift from what the code enforces.
 */

/** A zod schema as an OpenAPI 3.0 schema object (inlined, no $refs). */
export function openApiSchema(schema: ZodTypeAny): SchemaObject {
  // zodToJsonSchema's generic signature sends the compiler into deep instantiation; its result is plain JSON anyway.
  const convert = zodToJsonSchema as unknown as (schema: unknown, options: object) => Record<string, unknown>;
  const { $schema: _ignored, ...json } = convert(schema, { target: 'openApi3', $refStrategy: 'none', effectStrategy: 'input' });
  return withoutTupleItems(json) as SchemaObject;
}

/** OpenAPI 3.0 has no tuples (`items` must be one schema): a tuple becomes a fixed-length array of its item schemas. */
function withoutTupleItems(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutTupleItems);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'items' && Array.isArray(value)) {
      const items = value.map(withoutTupleItems);
      const same = items.every((item) => JSON.stringify(item) === JSON.stringify(items[0]));
      out.items = same ? items[0] : { anyOf: items };
    } else {
      out[key] = withoutTupleItems(value);
    }
  }
  return out;
}

function objectShape(schema: ZodTypeAny): AnyZodObject {
  let inner: ZodTypeAny = schema;
  while (inner instanceof ZodEffects) inner = inner.innerType();
  return inner as AnyZodObject;
}

export const ZodBody = (schema: ZodTypeAny, options: { description?: string; required?: boolean } = {}) =>
  ApiBody({ schema: openApiSchema(schema), required: options.required ?? true, description: options.description });

/** A parameter's schema: optionality is the parameter's `required`, not part of its schema. */
function parameterSchema(field: ZodTypeAny): SchemaObject {
  if (field instanceof ZodOptional) return parameterSchema(field.unwrap());
  if (field instanceof ZodDefault) return { ...parameterSchema(field.removeDefault()), default: field._def.defaultValue() };
  return openApiSchema(field);
}

/** One query parameter per field of a (possibly refined) zod object. */
export const ZodQuery = (schema: ZodTypeAny) =>
  applyDecorators(
    ...Object.entries(objectShape(schema).shape as Record<string, ZodTypeAny>).map(([name, field]) =>
      ApiQuery({ name, required: !field.isOptional(), schema: parameterSchema(field), description: field.description }),
    ),
  );

export const UuidParam = (name: string, description: string) => ApiParam({ name, description, schema: { type: 'string', format: 'uuid' } });

export const ZodResponse = (status: number, schema: ZodTypeAny, description: string) =>
  ApiResponse({ status, description, content: { 'application/json': { schema: openApiSchema(schema) } } });

const problemDescriptions: Record<number, string> = {
  400: 'Invalid input (the field paths are in `errors`)',
  401: 'Missing, invalid or expired bearer token',
  403: 'The token\'s roles do not allow this',
  404: 'No such resource, or not one the caller may see',
  409: 'Conflict: slot taken, illegal transition, or the Idempotency-Key is still in flight',
  413: 'Body larger than the limit',
  422: 'Refused by the domain, or the Idempotency-Key was used with another request',
  429: 'Rate limit exceeded (see Retry-After)',
  500: 'An unexpected error (logged)',
  502: 'Scheduling answered with something this API does not promise',
  503: 'Overloaded (OVERLOADED, with Retry-After: nothing was done), or scheduling (or the signing keys) unavailable',
  504: 'Scheduling did not answer in time',
};

/**
 * The codes the gateway answers with: its own and every service's, and scheduling's 4xx problems, which
 * it passes on unchanged (scheduling's 5xx become SCHEDULING_UNAVAILABLE or SCHEDULING_FAILED).
 */
export const GATEWAY_PROBLEM_CODES: readonly ProblemCode[] = PROBLEM_CODE_LIST.filter((code) => {
  const { origin, status } = PROBLEM_CODES[code];
  if (origin === 'every service' || origin === 'gateway') return true;
  return origin === 'scheduling' && status.every((s: number) => s >= 400 && s < 500);
});

/**
 * problem+json answers; 401, 429, 500 and the upstream failures are possible on every /v1 operation. Each
 * status lists the problem codes that come with it as an enum, one line of meaning each (from
 * PROBLEM_CODES in @booking/contracts).
 */
export const Problems = (...statuses: number[]) =>
  applyDecorators(
    ...[...new Set([...statuses, 401, 429, 500, 502, 503, 504])]
      .sort()
      .map((status) =>
        ApiResponse({
          status,
          description: problemDescriptions[status] ?? 'Problem',
          content: { 'application/problem+json': { schema: problemResponseSchema(status) } },
        }),
      ),
  );

function problemResponseSchema(status: number): SchemaObject {
  const codes = problemCodesFor(status, GATEWAY_PROBLEM_CODES);
  const schema = openApiSchema(problemSchema(codes));
  const code = schema.properties?.code as SchemaObject & Record<`x-${string}`, unknown>;
  code['x-enum-descriptions'] = codes.map((c) => PROBLEM_CODES[c].meaning);
  return schema;
}

export const IdempotencyKeyHeader = () =>
  ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Recommended on every POST (1-255 of A-Z a-z 0-9 . _ : -). A retry with the same key and body replays the first answer ' +
      '(Idempotent-Replayed: true); the same key with another body is a 422; a retry while the first is running is a 409.',
    schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,255}$' },
  });
