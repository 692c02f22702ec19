import { ProblemError } from '@booking/platform';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Path ids are UUIDs; anything else is the caller's mistake, answered before any upstream call. */
export function uuidParam(value: string, name: string): string {
  if (!UUID.test(value)) throw new ProblemError(400, 'INVALID_ID', `${name} must be a UUID; got ${JSON.stringify(value.slice(0, 60))}.`);
  return value.toLowerCase();
}
