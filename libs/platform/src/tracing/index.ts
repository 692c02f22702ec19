// The OpenTelemetry SDK, apart from the platform's index: a service's main imports it first, before
// anything loads http or pg (see startTracing).
export { startTracing, tracingEnabled } from './tracing';
export type { Tracing } from './tracing';
