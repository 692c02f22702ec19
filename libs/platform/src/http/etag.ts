/**
 * `If-None-Match` (RFC 9110 §13.1.2) against the current entity tag: `*`, or any listed tag equal
 * under the weak comparison (a `W/` prefix on either side is ignored). Absent or unreadable → false,
 * so the full answer is sent.
 */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const current = opaque(etag);
  for (const part of ifNoneMatch.split(',')) {
    const tag = part.trim();
    if (tag === '*') return true;
    if (tag !== '' && opaque(tag) === current) return true;
  }
  return false;
}

const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);
