import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * Replies from scheduling that matched their schema exactly are sent on as the bytes scheduling
 * wrote, not parsed and then stringified again: `SchedulingClient` remembers the JSON text of each
 * such parsed body here (as the Buffer it arrived in), and the app's reply serializer (which Fastify
 * uses for every object a handler returns) writes that text when it is handed one of those bodies.
 * Anything else is stringified as usual. The bodies are treated as read-only once remembered
 * (nothing in the gateway edits a reply).
 */
const texts = new WeakMap<object, Buffer>();

export function rememberJsonText(body: unknown, text: Buffer): void {
  if (typeof body === 'object' && body !== null) texts.set(body, text);
}

export function jsonTextOf(body: unknown): Buffer | undefined {
  return typeof body === 'object' && body !== null ? texts.get(body) : undefined;
}

/** Installs the verbatim path as the app's reply serializer (once per app). */
export function sendVerbatimJson(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .setReplySerializer((payload) => jsonTextOf(payload)?.toString('utf8') ?? JSON.stringify(payload));
}
