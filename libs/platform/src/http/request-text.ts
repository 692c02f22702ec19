import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { ProblemError } from './problem';

/**
 * Text Postgres or a reader cannot hold: NUL (a `text` column refuses it, `jsonb` refuses `\u0000`)
 * and UTF-16 surrogates without their partner (not Unicode at all: `pg` would store U+FFFD in their
 * place, `jsonb` refuses the escape). Every other code point is storable UTF-8.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorable = (text: string) => text.includes('\u0000') || LONE_SURROGATE.test(text);

export type TextIssue = { path: string; message: string };

const MAX_ISSUES = 20;

function describe(text: string): string {
  return text.includes('\u0000') ? 'contains a NUL character (U+0000)' : 'contains a lone UTF-16 surrogate (not Unicode text)';
}

/** A key as it may be shown back: its unstorable characters replaced, so the answer never carries them. */
function printable(key: string): string {
  // Encoding to UTF-8 turns each lone surrogate into U+FFFD and keeps pairs.
  return Buffer.from(key.replaceAll('\u0000', '\ufffd'), 'utf8').toString('utf8');
}

/**
 * Every string of a parsed request part, property names included, that cannot be stored as text; each
 * named by its path (`body.client.email`, `query.clientId`). Walks with its own stack, so a deeply
 * nested body cannot overflow the call stack.
 */
export function unstorableText(value: unknown, where: string): TextIssue[] {
  const issues: TextIssue[] = [];
  const stack: { value: unknown; path: string }[] = [{ value, path: where }];
  for (let item = stack.pop(); item && issues.length < MAX_ISSUES; item = stack.pop()) {
    if (typeof item.value === 'string') {
      if (unstorable(item.value)) issues.push({ path: item.path, message: describe(item.value) });
    } else if (Array.isArray(item.value)) {
      for (let i = item.value.length - 1; i >= 0; i--) stack.push({ value: item.value[i], path: `${item.path}.${i}` });
    } else if (item.value !== null && typeof item.value === 'object') {
      const entries = Object.entries(item.value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i];
        const path = `${item.path}.${printable(key)}`;
        if (unstorable(key)) issues.push({ path, message: `the property name ${describe(key)}` });
        else stack.push({ value: child, path });
      }
    }
  }
  return issues.slice(0, MAX_ISSUES);
}

const undecodable = new WeakMap<object, string[]>();

function decodeComponent(raw: string): string | undefined {
  if (!raw.includes('%')) return raw.includes('+') ? raw.replace(/\+/g, ' ') : raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * The query string parser: as Fastify's own (repeated names become arrays, `+` is a space), except
 * that a percent-encoding that is not UTF-8 (`%ff`, `%ed%a0%80`) is remembered as an error instead of
 * being passed on undecoded, where it would read as the literal text `%ff`.
 */
export function parseQueryString(query: string): Record<string, string | string[]> {
  const parsed: Record<string, string | string[]> = Object.create(null);
  const bad: string[] = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = decodeComponent(rawName);
    const value = decodeComponent(eq < 0 ? '' : pair.slice(eq + 1));
    if (name === undefined || value === undefined) {
      bad.push(printable(name ?? rawName));
      continue;
    }
    const prior = parsed[name];
    parsed[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
  }
  if (bad.length) undecodable.set(parsed, bad);
  return parsed;
}

function refuse(issues: TextIssue[]): ProblemError {
  return new ProblemError(400, 'VALIDATION_FAILED', issues.map((e) => `${e.path}: ${e.message}`).join('; '), { errors: issues });
}

/**
 * Refuses, before any handler runs, a request whose path parameters, query or JSON body carry text
 * that cannot be stored (see `unstorable`): 400 VALIDATION_FAILED naming each field. Once here, for
 * every route of every service, rather than in each schema.
 */
export function installTextCheck(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', (request, _reply, done) => {
    const issues = [
      ...(undecodable.get(request.query as object) ?? []).map((name) => ({ path: `query.${name}`, message: 'is not percent-encoded UTF-8' })),
      ...unstorableText(request.params, 'path'),
      ...unstorableText(request.query, 'query'),
      ...unstorableText(request.body, 'body'),
    ];
    done(issues.length ? refuse(issues.slice(0, MAX_ISSUES)) : undefined);
  });
}

/**
 * A JSON body's bytes, decoded only if they are what the service reads: no Content-Encoding (a gzip
 * body would otherwise be parsed as if it were plain), a charset that is UTF-8 if one is named (a
 * UTF-16 or Latin-1 body would be misread), and bytes that are UTF-8 (rather than replaced with U+FFFD).
 */
export function decodeJsonBody(contentType: string | undefined, contentEncoding: string | string[] | undefined, body: Buffer): string {
  refuseContentEncoding(contentEncoding);
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ProblemError(415, 'UNSUPPORTED_CHARSET', `JSON bodies must be UTF-8; got charset=${printable(charset)}.`);
  }
  if (!isUtf8(body)) throw new ProblemError(400, 'MALFORMED_JSON', 'The request body is not valid UTF-8.');
  return body.toString('utf8');
}

/** A body with a Content-Encoding other than `identity` is not read as if it were plain. */
export function refuseContentEncoding(contentEncoding: string | string[] | undefined): void {
  if (contentEncoding === undefined) return;
  const codings = [contentEncoding].flat().join(',').split(',').map((c) => c.trim().toLowerCase()).filter(Boolean);
  if (codings.some((c) => c !== 'identity')) {
    throw new ProblemError(415, 'UNSUPPORTED_CONTENT_ENCODING', `Request bodies are read only without a Content-Encoding; got ${printable(codings.join(', '))}.`);
  }
}
