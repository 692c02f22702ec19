import type { Migration } from '@booking/platform';

/** The reminder schema, in order. Never edit an applied migration; add a new one. */
export const migrations: Migration[] = [];
