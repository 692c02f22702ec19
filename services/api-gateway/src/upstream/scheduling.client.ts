import { Pool } from 'undici';
import type { Logger } from 'pino';
import { z, ZodTypeAny } from 'zod';
import { HEADER_CORRELATION_ID } from '@booking/contracts';
import { BoundedLru, currentCorrelation, injectTraceparent, ProblemError } from '@booking/platform';
import { compileExactCheck } from './exact-check';
import { SchedulingChangeFeed } from './scheduling-change-feed';
import { rememberJsonText } from './verbatim-json';

export type UpstreamRequest = {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
};

export type UpstreamReply<T> = { status: number; headers: Record<string, string | string[] | undefined>; body: T };
type RawReply = UpstreamReply<unknown> & { raw: Buffer };

/** A revalidated GET answer: its JSON text and strong ETag, and until when it may be sent without asking. */
export type UpstreamAnswer = {
  readonly json: Buffer;
  readonly etag: string;
  /** The change feed's mark taken before the request that last confirmed it. */
  readonly mark: number;
  /** Epoch ms (this process's clock): scheduling said the clock alone leaves it unchanged until then. */
  readonly freshUntil: number;
};

/** JSON texts of revalidated GET answers with their strong ETags, by path and query (see `revalidate`). */
export class UpstreamAnswers extends BoundedLru<UpstreamAnswer> {
  constructor(maxBytes: number) {
    super(maxBytes, (key, answer) => answer.json.length + 2 * (key.length + answer.etag.length) + 96);
  }
}

/** Scheduling's response header: how long a slot answer holds unless the change feed names its provider. */
const FRESH_FOR = 'availability-fresh-for';

/** Which provider an answer depends on (the client's change feed announces that provider's changes). */
export type Freshness = { providerId: string };

export type SchedulingClientOptions = {
  url: string;
  timeoutMs: number;
  connections: number;
  /**
   * Scheduling's change feed: told of every provider a write through this client may have changed (this
   * gateway's own writes), and asked whether a kept answer still holds (`revalidate` with `fresh`).
   */
  feed?: SchedulingChangeFeed;
};

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT']);
const TIMED_OUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_ABORTED']);
// A keep-alive socket the server closed as we reused it: the request never reached the handler.
const STALE_SOCKET = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);

const upstreamProblem = z
  .object({ code: z.string().min(1).max(100), detail: z.string().max(10_000), status: z.number().int() })
  .passthrough();

/**
 * The scheduling service over HTTP: a keep-alive pool, a whole-request timeout, the correlation id
 * on every call. Replies are checked against the schema this API promises; a reply that breaks it is
 * a 502 (logged), never passed on. Scheduling's 4xx problems pass through with their status and code.
 */
export class SchedulingClient {
  private readonly pool: Pool;

  constructor(
    private readonly options: SchedulingClientOptions,
    private readonly logger: Logger,
  ) {
    this.pool = new Pool(options.url, {
      connections: options.connections,
      keepAliveTimeout: 4000,
      connectTimeout: Math.min(options.timeoutMs, 2000),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** Sends a request and returns a 2xx reply parsed by `schema` (204s carry no body); anything else becomes a problem. */
  async call<S extends ZodTypeAny>(request: UpstreamRequest, schema: S): Promise<UpstreamReply<z.infer<S>>> {
    const { raw, ...reply } = await this.send(request);
    if (reply.status >= 200 && reply.status < 300) {
      if (request.method !== 'GET') this.wrote(request.path, reply.body);
      return { ...reply, body: this.accept(request, reply, raw, schema).body };
    }
    throw this.toProblem(request, reply);
  }

  /**
   * A write went through: the provider it names (in the path, or the answer's `providerId`) may have
   * other slots now, so kept slot answers of that provider are not sent again without asking.
   */
  private wrote(path: string, body: unknown): void {
    if (!this.options.feed) return;
    const inPath = /^\/providers\/([0-9a-fA-F-]{36})(\/|$)/.exec(path)?.[1];
    if (inPath) this.options.feed.changed(inPath);
    const named = typeof body === 'object' && body !== null ? (body as { providerId?: unknown }).providerId : undefined;
    if (typeof named === 'string') this.options.feed.changed(named);
  }

  /**
   * A GET whose 200 carries a strong ETag, revalidated: the JSON text of the last answer checked
   * against `schema` is kept in `cache` with its tag and sent again when scheduling answers 304 to
   * `If-None-Match`, without parsing or checking it again. With `fresh`, a kept answer is sent without
   * asking scheduling at all while the change feed is open and has named no change of its provider since
   * the request that last confirmed it, and scheduling's `Availability-Fresh-For` has not run out; so it
   * is stale at most for the time a change takes to reach this gateway through the feed.
   * Returns the JSON text and its tag (none when zod had to rewrite the reply, which is not kept).
   */
  async revalidate(
    request: UpstreamRequest & { method: 'GET' },
    schema: ZodTypeAny,
    cache: UpstreamAnswers,
    fresh?: Freshness,
  ): Promise<{ json: Buffer; etag?: string }> {
    const key = request.path + queryString(request.query);
    const known = cache.get(key);
    const feed = fresh ? this.options.feed : undefined;
    if (known && feed && fresh && Date.now() < known.freshUntil && feed.unchangedSince(fresh.providerId, known.mark)) return known;
    // Taken before asking: a change scheduling's answer may not include is named by the feed after it.
    const mark = feed?.mark() ?? -1;
    const sentAt = Date.now();
    const headers: Record<string, string> = { ...request.headers };
    if (known) headers['if-none-match'] = known.etag;
    // An answer the feed will vouch for must come from the database: the scheduling instance asked may
    // not have heard yet of the change the feed (from another instance) or this gateway's write named.
    if (feed?.isOpen()) headers['cache-control'] = 'no-cache';
    const { raw, ...reply } = await this.send({ ...request, headers });
    const freshUntil = feed ? sentAt + freshFor(reply.headers[FRESH_FOR]) : 0;
    if (reply.status === 304 && known) {
      const confirmed = { ...known, mark, freshUntil };
      cache.set(key, confirmed);
      return confirmed;
    }
    if (reply.status < 200 || reply.status >= 300) {
      cache.delete(key);
      throw this.toProblem(request, reply);
    }
    const { body, exact } = this.accept(request, reply, raw, schema);
    const etag = reply.headers.etag;
    if (!exact) return { json: Buffer.from(JSON.stringify(body)) };
    if (typeof etag === 'string' && etag.startsWith('"')) {
      const answer = { json: raw, etag, mark, freshUntil };
      cache.set(key, answer);
      return answer;
    }
    cache.delete(key);
    return { json: raw };
  }

  /**
   * A 2xx body this API promises: one that matches `schema` exactly (the usual case) is checked by a
   * precompiled check instead of zod and keeps its JSON text, which the gateway then sends on as it
   * is; one that zod would change (unknown keys stripped) goes through zod; anything else is a 502.
   */
  private accept(request: UpstreamRequest, reply: UpstreamReply<unknown>, raw: Buffer, schema: ZodTypeAny): { body: unknown; exact: boolean } {
    if (compileExactCheck(schema)(reply.body)) {
      rememberJsonText(reply.body, raw);
      return { body: reply.body, exact: true };
    }
    const parsed = schema.safeParse(reply.body);
    if (parsed.success) return { body: parsed.data, exact: false };
    this.logger.error(
      { method: request.method, path: request.path, status: reply.status, issues: parsed.error.issues.slice(0, 10) },
      'scheduling reply does not match the schema the gateway promises',
    );
    throw new ProblemError(502, 'UPSTREAM_CONTRACT_VIOLATION', 'The scheduling service answered with a response this API does not promise; it has been logged.');
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async send(request: UpstreamRequest, attempt = 1): Promise<RawReply> {
    const correlationId = currentCorrelation()?.correlationId;
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (correlationId) headers[HEADER_CORRELATION_ID] = correlationId;
    // Scheduling's request span continues the gateway's trace (undici is not instrumented).
    injectTraceparent(headers);
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await this.exchange(
        request.method,
        request.path + queryString(request.query),
        headers,
        request.body === undefined ? undefined : JSON.stringify(request.body),
      );
      const text = response.body.toString('utf8');
      return { status: response.status, headers: response.headers, body: parseJson(text), raw: response.body };
    } catch (error) {
      const code = errorCode(error);
      if (request.method === 'GET' && attempt === 1 && STALE_SOCKET.has(code)) return this.send(request, 2);
      if (TIMED_OUT.has(code) || (error as Error)?.name === 'TimeoutError') {
        this.logger.warn({ method: request.method, path: request.path, code }, 'scheduling timed out');
        throw new ProblemError(504, 'SCHEDULING_TIMEOUT', `The scheduling service did not answer within ${this.options.timeoutMs} ms.`);
      }
      if (UNREACHABLE.has(code)) {
        this.logger.warn({ method: request.method, path: request.path, code }, 'scheduling unreachable');
        throw new ProblemError(503, 'SCHEDULING_UNAVAILABLE', 'The scheduling service is unavailable; retry shortly.');
      }
      throw error;
    }
  }

  /**
   * One request on the pool through undici's handler interface: the body arrives as Buffers and is
   * kept as one, with no Readable stream, async-resource binding or AbortSignal per request. The
   * whole-request budget is one timer that aborts the request (→ 504).
   */
  private exchange(method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      let status = 0;
      let replyHeaders: Record<string, string | string[]> = {};
      const chunks: Buffer[] = [];
      let length = 0;
      let abort: ((error: Error) => void) | undefined;
      let settled = false;
      const timer = setTimeout(() => {
        const error = new Error(`scheduling did not answer within ${this.options.timeoutMs} ms`);
        error.name = 'TimeoutError';
        if (abort) abort(error);
        else fail(error);
      }, this.options.timeoutMs);
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      };
      this.pool.dispatch(
        { method: method as 'GET', path, headers, body },
        {
          onConnect: (abortRequest) => {
            if (settled) abortRequest(new Error('already settled'));
            abort = abortRequest;
          },
          onHeaders: (statusCode, rawHeaders) => {
            if (statusCode < 200) return true;
            status = statusCode;
            replyHeaders = headerRecord(rawHeaders);
            return true;
          },
          onData: (chunk) => {
            chunks.push(chunk);
            length += chunk.length;
            return true;
          },
          onComplete: () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({ status, headers: replyHeaders, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length) });
          },
          onError: fail,
        },
      );
    });
  }

  private toProblem(request: UpstreamRequest, reply: UpstreamReply<unknown>): ProblemError {
    if (reply.status >= 400 && reply.status < 500) {
      const parsed = upstreamProblem.safeParse(reply.body);
      if (parsed.success) {
        const { type: _type, title: _title, status: _status, instance: _instance, code, detail, ...extensions } = parsed.data;
        return ProblemError.passedOn(reply.status, code, detail, extensions);
      }
    }
    if (reply.status === 503) {
      // Scheduling refused the work before doing any of it: the caller may retry as it says.
      const overloaded = upstreamProblem.safeParse(reply.body);
      if (overloaded.success && overloaded.data.code === 'OVERLOADED') {
        this.logger.warn({ method: request.method, path: request.path }, 'scheduling overloaded');
        const retryAfter = reply.headers['retry-after'];
        return new ProblemError(503, 'OVERLOADED', overloaded.data.detail, {}, typeof retryAfter === 'string' && /^\d+$/.test(retryAfter) ? { 'retry-after': retryAfter } : { 'retry-after': '1' });
      }
    }
    this.logger.error({ method: request.method, path: request.path, status: reply.status, body: reply.body }, 'scheduling failed');
    if (reply.status === 503) return new ProblemError(503, 'SCHEDULING_UNAVAILABLE', 'The scheduling service is unavailable; retry shortly.');
    return new ProblemError(502, 'SCHEDULING_FAILED', 'The scheduling service failed to answer this request; it has been logged.');
  }
}

function queryString(query: UpstreamRequest['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

function headerRecord(raw: Buffer[] | string[] | null): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  if (!raw) return record;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toString().toLowerCase();
    const value = raw[i + 1].toString();
    const existing = record[name];
    record[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return record;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorCode(error: unknown): string {
  const e = error as { code?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code ?? '';
}

/** `Availability-Fresh-For` in ms; anything unreadable is 0 (ask again next time). */
function freshFor(header: string | string[] | undefined): number {
  const value = typeof header === 'string' ? Number(header) : NaN;
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}
