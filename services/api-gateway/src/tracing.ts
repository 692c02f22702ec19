import { startTracing } from '@booking/platform/tracing';

// Imported first by main.ts: the instrumentations must be in place before http and pg are loaded.
startTracing('api-gateway');
