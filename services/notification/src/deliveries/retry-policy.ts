/** Backoff before retry number `retry` (1-based): doubling from `initialMs`, capped at `maxMs`. */
export function backoffMs(retry: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** (retry - 1));
}

/**
 * How often the consumer re-runs an event whose deliveries are not all finished. Each run is one
 * attempt of every unfinished delivery, so `maxAttempts` runs finish transient failures; on top, the
 * schedule must outlast one lease, for the case where a crashed instance left a delivery claimed and
 * its lease must run out before anyone may send it again. Runs past that point would only
 * dead-letter the event, so this is the bound.
 */
export function consumerRetryPolicy(settings: { maxAttempts: number; leaseMs: number; initialBackoffMs: number; maxBackoffMs: number }) {
  let waited = 0;
  let retries = 0;
  while (waited < settings.leaseMs) {
    retries += 1;
    waited += backoffMs(retries, settings.initialBackoffMs, settings.maxBackoffMs);
  }
  return {
    maxAttempts: settings.maxAttempts + retries,
    initialBackoffMs: settings.initialBackoffMs,
    maxBackoffMs: settings.maxBackoffMs,
  };
}
