/**
 * kafkajs 2.2.4 — its last release, the one this project uses — re-arms a timer of about a millisecond
 * in the request queue of every broker connection forever, even when nothing is queued: with no
 * request pending and no throttling, `scheduleCheckPendingRequests` computes a negative delay and
 * `setTimeout` fires again at once (tulios/kafkajs#1556; the fix, #1667, was never released). Every
 * process using kafkajs then wakes up on the order of a thousand times a second per connection; on
 * this project's two-core machines that is measurable CPU taken from the services and the broker.
 *
 * This wraps the method so that it arms a timer only when there is something to check later: requests
 * waiting in the queue (checked at kafkajs' own interval, as before) or a throttle to wait out. Nothing
 * else changes: a request that cannot be sent at once is queued by `push`, which schedules the check
 * with the queue non-empty, and every response checks the queue again.
 */

type RequestQueueInternals = {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
};

let applied = false;

/** Applies the fix once per process; harmless if kafkajs ever changes (then it does nothing). */
export function fixKafkajsIdleTimer(): void {
  if (applied) return;
  applied = true;
  let RequestQueue: { prototype: RequestQueueInternals } | undefined;
  try {
    RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueueInternals };
  } catch {
    return;
  }
  const original = RequestQueue.prototype.scheduleCheckPendingRequests;
  if (typeof original !== 'function') return;
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueInternals) {
    if (!Array.isArray(this.pending) || typeof this.throttledUntil !== 'number') return original.call(this);
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    original.call(this);
  };
}
