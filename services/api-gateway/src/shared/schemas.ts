import { z } from 'zod';

/*
 * The gateway's own schemas. Everything it exchanges with scheduling (requests, replies) is the HTTP
 * contract in @booking/contracts, which scheduling uses too.
 */

/** A reply with no body (204) still goes through `call`, which needs a schema. */
export const noContent = z.undefined();

/** The body of the lifecycle commands without one (cancel, complete, no-show): none, or `{}`. */
export const emptyBody = z.object({}).strict();
