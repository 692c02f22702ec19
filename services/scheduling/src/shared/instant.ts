import { z } from 'zod';

/**
 * An ISO 8601 instant with an offset. The format check alone lets through impossible offsets such as
 * +25:00, which `Date` cannot represent: those are refused here rather than failing deeper down.
 */
export const instant = z
  .string()
  .datetime({ offset: true, message: 'must be an ISO 8601 instant with an offset, e.g. 2030-12-01T14:00:00Z' })
  .refine((v) => !Number.isNaN(Date.parse(v)), 'is not a real instant (check the offset)');
