import type { Migration } from '@booking/platform';

/** The notification schema, in order. Never edit an applied migration; add a new one. */
export const migrations: Migration[] = [];
