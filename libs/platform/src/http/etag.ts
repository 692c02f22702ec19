import type { FastifyReply } from 'fastify';

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

/**
 * Sends a JSON text that may be revalidated: `Cache-Control: private, no-cache`, its strong ETag when it
 * has one, and 304 without a body when `If-None-Match` names that tag; the text itself otherwise.
 */
export function sendRevalidatableJson(reply: FastifyReply, ifNoneMatch: string | undefined, json: Buffer, etag: string | undefined): void {
  reply.header('Cache-Control', 'private, no-cache');
  if (etag !== undefined) {
    reply.header('ETag', etag);
    if (etagMatches(ifNoneMatch, etag)) {
      reply.status(304).send();
      return;
    }
  }
  reply.status(200).header('Content-Type', 'application/json; charset=utf-8').send(json);
}
