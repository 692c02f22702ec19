/**
 * One check of an instance's readiness, read from state the instance keeps anyway (its Postgres session,
 * its consumers' group membership, its clients' last exchanges): a probe opens no connection and never
 * waits on a dependency, so it answers at once whatever is down.
 *
 * - `up`: fine.
 * - `degraded`: something is wrong but the instance still does its job (for example the broker is away
 *   while bookings go on into the outbox); reported, never a 503.
 * - `down`: the instance cannot do its job now: readiness answers 503 and names it.
 */
export type CheckState = { status: 'up' | 'degraded' | 'down'; message?: string; impact?: string };

export type ReadinessReport = {
  status: 'ok' | 'degraded' | 'error';
  /** Every check by name. */
  details: Record<string, CheckState>;
  /** The checks that are down (present only when some are). */
  error?: Record<string, CheckState>;
  /** One line naming each failing check, then each degraded one. */
  detail?: string;
};

/** Sums up checks: any `down` makes the instance not ready; `degraded` ones are reported but keep it ready. */
export function readinessReport(details: Record<string, CheckState>): ReadinessReport {
  const entries = Object.entries(details);
  const line = (status: CheckState['status']) =>
    entries
      .filter(([, check]) => check.status === status)
      .map(([name, check]) => (check.message ? `${name} (${check.message})` : name))
      .join('; ');
  const down = entries.filter(([, check]) => check.status === 'down');
  const degraded = line('degraded');
  if (down.length) {
    return {
      status: 'error',
      details,
      error: Object.fromEntries(down),
      detail: `not ready: ${line('down')}${degraded ? `. degraded: ${degraded}` : ''}`,
    };
  }
  if (degraded) return { status: 'degraded', details, detail: `degraded: ${degraded}` };
  return { status: 'ok', details };
}
