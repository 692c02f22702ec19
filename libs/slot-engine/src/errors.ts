/** One problem found while validating input: where (a dotted/indexed path) and what, in plain words. */
export interface SlotEngineIssue {
  /** Path of the offending value, e.g. `timezone`, `workingHours.MON[1][0]`, `busy[3].end`. */
  readonly field: string;
  /** Human-readable explanation, without the field name (e.g. `must be an integer between 5 and 480`). */
  readonly message: string;
}

/**
 * The only error the slot engine throws on purpose: the input is invalid.
 *
 * `field` / `message` describe the first problem; `issues` lists every problem found
 * (parsers that look at several fields, such as `parseProviderRules`, report them all at once).
 * `error.message` is `"<field>: <message>"` for each issue, joined with `; `.
 */
export class SlotEngineValidationError extends Error {
  override readonly name = 'SlotEngineValidationError';
  /** Path of the first offending value. */
  readonly field: string;
  /** Every problem found (at least one). */
  readonly issues: readonly SlotEngineIssue[];

  constructor(issues: readonly SlotEngineIssue[]) {
    const list = issues.length > 0 ? issues : [{ field: '(input)', message: 'is invalid' }];
    super(list.map((i) => `${i.field}: ${i.message}`).join('; '));
    this.field = list[0].field;
    this.issues = list;
  }

  /** Shorthand for a single issue. */
  static of(field: string, message: string): SlotEngineValidationError {
    return new SlotEngineValidationError([{ field, message }]);
  }
}

/** Throws a `SlotEngineValidationError` for one field. */
export function invalid(field: string, message: string): never {
  throw SlotEngineValidationError.of(field, message);
}

/**
 * Runs `parse`, adding its issues to `into` instead of throwing. Returns the parsed value, or
 * `undefined` if it failed. Non-validation errors are rethrown (they are bugs).
 */
export function collect<T>(into: SlotEngineIssue[], parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (error instanceof SlotEngineValidationError) {
      into.push(...error.issues);
      return undefined;
    }
    throw error;
  }
}

/** Quotes a received value for an error message, keeping it short. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
