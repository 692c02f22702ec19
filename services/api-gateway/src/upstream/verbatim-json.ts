import type { INestApplication } from '@nestjs/common';
import type { Response } from 'express';

/**
 * Replies from scheduling that matched their schema exactly are sent on as the bytes scheduling
 * wrote, not parsed and then stringified again: `SchedulingClient` remembers the JSON text of each
 * such parsed body here (as the Buffer it arrived in), and the app's `res.json` (which Nest uses for every object a handler
 * returns) writes that text when it is handed one of those bodies. Anything else is stringified as
 * usual. The bodies are treated as read-only once remembered (nothing in the gateway edits a reply).
 */
const texts = new WeakMap<object, Buffer>();

export function rememberJsonText(body: unknown, text: Buffer): void {
  if (typeof body === 'object' && body !== null) texts.set(body, text);
}

export function jsonTextOf(body: unknown): Buffer | undefined {
  return typeof body === 'object' && body !== null ? texts.get(body) : undefined;
}

/** Installs the verbatim path on the app's Express response prototype (once per app). */
export function sendVerbatimJson(app: INestApplication): void {
  const express = app.getHttpAdapter().getInstance() as { response: Response };
  const prototype = express.response;
  const json = prototype.json;
  prototype.json = function verbatimJson(this: Response, body?: unknown) {
    const text = jsonTextOf(body);
    if (text === undefined) return json.call(this, body);
    if (!this.get('Content-Type')) this.set('Content-Type', 'application/json; charset=utf-8');
    return this.send(text);
  };
}
