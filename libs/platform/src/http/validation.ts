import { ZodError, ZodTypeAny, z } from 'zod';
import { ProblemError } from './problem';

/** Validates a request part against a schema; on failure a 400 that lists each bad field. */
export function parseRequest<S extends ZodTypeAny>(schema: S, input: unknown, where = 'body'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw validationProblem(result.error, where);
}

export function validationProblem(error: ZodError, where = 'body'): ProblemError {
  const errors = error.issues.slice(0, 20).map((issue) => ({
    path: [where, ...issue.path].join('.'),
    message: issue.message,
  }));
  return new ProblemError(400, 'VALIDATION_FAILED', errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
    errors,
  });
}
