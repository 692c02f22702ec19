// The configuration layer alone (zod, no framework or I/O client), so a service can check its
// environment before it loads anything else and a refused start fails at once.
export * from './config';
export * from './secrets';
export * from './kafka-config';
