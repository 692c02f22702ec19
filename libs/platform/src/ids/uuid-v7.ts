import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(16 * 256);
let offset = pool.length;

/**
 * A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds, then 74 random bits. Ids of
 * rows that grow with every booking (appointments, their events, reminders) are made so, so a B-tree
 * index on them is written at its right-most pages, which stay in memory however large the index grows;
 * a random (v4) key lands on any leaf page, and once the index outgrows the buffer cache every insert
 * reads a page and, after each checkpoint, writes a full-page image to the WAL (docs/scale.md). The
 * id reveals when it was made, to the millisecond.
 */
export function uuidv7(now: number = Date.now()): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + 16);
  offset += 16;
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
