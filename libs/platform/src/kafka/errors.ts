/** A handler error that retrying cannot fix (bad data, unknown reference): dead-letter at once. */
export class PermanentEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentEventError';
  }
}
