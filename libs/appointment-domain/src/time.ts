/**
 * Instants are ISO-8601 UTC strings in canonical `toISOString()` form (`2026-12-01T14:00:00.000Z`).
 * Parsing is allowed here; reading the clock is not — the current time always arrives with the command.
 */
export type IsoDateTime = string;

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$/;

/** Epoch milliseconds of a strict UTC ISO string (`Z` suffix, 0–3 fraction digits), or `undefined` if invalid. */
export function parseIsoUtc(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = ISO_UTC.exec(value);
  if (!m) return undefined;
  const canonical = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${(m[7] ?? '').padEnd(3, '0')}Z`;
  const ms = Date.parse(canonical);
  // Date.parse is lenient (e.g. Feb 30, 24:00) — round-tripping rejects anything that is not a real instant.
  if (!Number.isFinite(ms) || toIsoUtc(ms) !== canonical) return undefined;
  return ms;
}

/** Canonical form of a valid UTC ISO string (always with milliseconds), or `undefined`. */
export function normalizeIsoUtc(value: unknown): IsoDateTime | undefined {
  const ms = parseIsoUtc(value);
  return ms === undefined ? undefined : toIsoUtc(ms);
}

/** Parses an instant already validated (state/event data); throws on corrupt data. */
export function toMillis(value: IsoDateTime): number {
  const ms = parseIsoUtc(value);
  if (ms === undefined) throw new RangeError(`not a UTC ISO-8601 instant: ${String(value)}`);
  return ms;
}

/**
 * Epoch milliseconds → `YYYY-MM-DDTHH:mm:ss.sssZ` without touching `Date`
 * (civil-from-days, H. Hinnant). Years 0000–9999 only.
 */
export function toIsoUtc(ms: number): IsoDateTime {
  if (!Number.isInteger(ms)) throw new RangeError(`not an integer epoch-millisecond value: ${ms}`);
  const days = Math.floor(ms / DAY_MS);
  let rem = ms - days * DAY_MS;
  const hh = Math.floor(rem / HOUR_MS);
  rem -= hh * HOUR_MS;
  const mi = Math.floor(rem / MINUTE_MS);
  rem -= mi * MINUTE_MS;
  const ss = Math.floor(rem / 1000);
  const sss = rem - ss * 1000;

  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) throw new RangeError(`year out of range: ${year}`);

  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(year, 4)}-${p(month)}-${p(day)}T${p(hh)}:${p(mi)}:${p(ss)}.${p(sss, 3)}Z`;
}
