import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Knex } from 'knex';
import { GatewayStack, HttpTestClient, Reply, roundTheClockProvider, slotSequence, startGatewayStack } from './testing/gateway-stack';

/**
 * Arbitrary Unicode (fast-check's full-Unicode and 16-bit strings, so lone surrogates too, plus NUL
 * planted at random places) in every string field of every route: each body field and property name,
 * each query parameter and each path parameter, at the gateway and at scheduling's own HTTP API.
 * Text Postgres cannot store (NUL, a lone surrogate) must be refused with 400 VALIDATION_FAILED naming
 * the field, and change no row; any other text may be refused for its own reasons, never with a 5xx.
 * Set FUZZ_SEED to replay a run.
 */

type Place = 'body' | 'key' | 'query' | 'path';
type Route = {
  label: string;
  method: string;
  /** A path with `{field}` where a generated path parameter goes. */
  path: string;
  body?: Record<string, unknown>;
  query?: Record<string, string>;
  /** Where a generated string goes: `body.client.email`, `key.workingHours` (a property name there), `query.clientId`, `path.id`. */
  fields: string[];
};

const RUNS_PER_TARGET = Number(process.env.UNICODE_FUZZ_RUNS ?? 250);
/** The oracle, independent of the service's check: NUL, or text that does not survive a round trip through UTF-8. */
const unstorable = (text: string) => text.includes('\u0000') || Buffer.from(text, 'utf8').toString('utf8') !== text;

/** Percent-encodes every UTF-16 code unit the way a client would, a lone surrogate as its 3 (CESU) bytes: no valid UTF-8. */
function percentEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const paired = unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) <= 0xdfff;
    if (paired) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(text[i]);
    }
  }
  return out;
}

/** Any text, and text with NUL or a lone surrogate planted in it. */
const anyText = fc.oneof(
  fc.fullUnicodeString({ maxLength: 40 }),
  fc.string16bits({ maxLength: 40 }),
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.fullUnicodeString({ maxLength: 20 }), fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff'), fc.fullUnicodeString({ maxLength: 20 }))
      .map(([a, bad, b]) => a + bad + b),
  },
);

function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    node[part] = { ...(node[part] as Record<string, unknown>) };
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/** Everything a refused request could have changed, as one digest (the outbox is left out: the relay empties it on its own). */
async function snapshot(db: Knex): Promise<string> {
  const { rows } = await db.raw<{ rows: { digest: string }[] }>(`
    SELECT md5(concat_ws('|',
      (SELECT string_agg(p::text, ',' ORDER BY p.id) FROM scheduling.providers p),
      (SELECT string_agg(b::text, ',' ORDER BY b.id) FROM scheduling.blocked_times b),
      (SELECT string_agg(a::text, ',' ORDER BY a.id) FROM scheduling.appointments a),
      (SELECT count(*)::text FROM scheduling.events),
      (SELECT count(*)::text FROM scheduling.idempotency_keys),
      (SELECT count(*)::text FROM gateway.idempotency_keys))) AS digest`);
  return rows[0].digest;
}

describe('arbitrary Unicode in every string field (e2e)', () => {
  let t: GatewayStack;
  let admin: string;
  let provider: string;
  let appointment: string;
  let blocked: string;
  const nextSlot = slotSequence();

  beforeAll(async () => {
    t = await startGatewayStack({ env: { RATE_LIMIT_PER_MINUTE: '10000000' } });
    admin = await t.token({ sub: 'unicode-admin', roles: ['admin'] }, { expiresIn: '30m' });
    provider = (await t.direct.request('POST', '/providers', { body: roundTheClockProvider() })).body.id;
    appointment = (await t.direct.request('POST', '/appointments', { body: { providerId: provider, clientId: 'client-u', start: nextSlot(), client: { timeZone: 'Asia/Tokyo' } } })).body.id;
    blocked = (await t.direct.request('POST', `/providers/${provider}/blocked-times`, { body: { start: '2031-03-01T00:00:00Z', end: '2031-03-01T01:00:00Z', reason: 'BREAK' } })).body.id;
    expect([provider, appointment, blocked].every(Boolean)).toBe(true);
  });
  afterAll(async () => t?.close());

  /** The routes both APIs share (scheduling's without `/v1`); bodies valid, so only the generated field can be wrong. */
  function routes(gateway: boolean): Route[] {
    const booking = { providerId: provider, clientId: 'client-u', start: nextSlot(), client: { timeZone: 'Asia/Tokyo', email: 'a@example.com', locale: 'en' }, paymentMethod: 'tok_success' };
    const list: Route[] = [
      {
        label: 'create provider',
        method: 'POST',
        path: '/providers',
        body: roundTheClockProvider({ name: 'Unicode', contact: { email: 'p@example.com', phone: '+12125550123' }, dateOverrides: { '2031-05-05': [] } }),
        fields: ['body.name', 'body.timeZone', 'body.contact.email', 'body.contact.phone', 'body.workingHours.MON.0', 'body.price.currency', 'key.workingHours', 'key.dateOverrides', 'key.contact'],
      },
      { label: 'list providers', method: 'GET', path: '/providers', query: { limit: '5' }, fields: ['query.cursor', 'query.limit'] },
      { label: 'get provider', method: 'GET', path: '/providers/{field}', fields: ['path.id'] },
      { label: 'rename provider', method: 'PATCH', path: `/providers/${provider}`, body: { name: 'Renamed' }, fields: ['body.name', 'key.contact'] },
      { label: 'patch provider by id', method: 'PATCH', path: '/providers/{field}', body: { name: 'Renamed' }, fields: ['path.id'] },
      { label: 'slots', method: 'GET', path: `/providers/${provider}/slots`, query: { date: '2031-01-01', timeZone: 'Asia/Tokyo' }, fields: ['query.date', 'query.timeZone', 'query.from'] },
      {
        label: 'block time',
        method: 'POST',
        path: `/providers/${provider}/blocked-times`,
        body: { start: '2031-04-01T00:00:00Z', end: '2031-04-01T01:00:00Z', reason: 'BREAK', note: 'n' },
        fields: ['body.note', 'body.reason', 'body.start', 'key.note'],
      },
      { label: 'list blocked times', method: 'GET', path: '/providers/{field}/blocked-times', fields: ['path.id'] },
      { label: 'unblock', method: 'DELETE', path: `/providers/${provider}/blocked-times/{field}`, fields: ['path.blockedId'] },
      {
        label: 'book',
        method: 'POST',
        path: '/appointments',
        body: booking,
        fields: ['body.clientId', 'body.paymentMethod', 'body.start', 'body.providerId', 'body.client.timeZone', 'body.client.email', 'body.client.locale', 'body.client.phone', 'key.client'],
      },
      { label: 'list appointments', method: 'GET', path: '/appointments', query: { limit: '5' }, fields: ['query.clientId', 'query.providerId', 'query.status', 'query.from', 'query.cursor'] },
      { label: 'get appointment', method: 'GET', path: '/appointments/{field}', fields: ['path.id'] },
      { label: 'appointment events', method: 'GET', path: '/appointments/{field}/events', fields: ['path.id'] },
      { label: 'reschedule', method: 'POST', path: `/appointments/${appointment}/reschedule`, body: gateway ? { start: nextSlot() } : { start: nextSlot(), by: 'PROVIDER' }, fields: ['body.start', 'key.start'] },
      { label: 'cancel by id', method: 'POST', path: '/appointments/{field}/cancel', body: gateway ? {} : { by: 'PROVIDER' }, fields: ['path.id'] },
      { label: 'complete by id', method: 'POST', path: '/appointments/{field}/complete', fields: ['path.id'] },
    ];
    if (!gateway) list.push({ label: 'cancel', method: 'POST', path: `/appointments/${appointment}/cancel`, body: { by: 'PROVIDER' }, fields: ['body.by', 'key.by'] });
    return list;
  }

  /** The request with `text` at `field`; `named` is the field name a refusal must mention. */
  function place(route: Route, field: string, text: string): { path: string; body?: unknown; named: string } {
    const [where, ...rest] = field.split('.') as [Place, ...string[]];
    const body = route.body && structuredClone(route.body);
    const query = { ...route.query };
    let path = route.path;
    let named = rest[rest.length - 1];
    if (where === 'body') setAt(body!, rest, text);
    if (where === 'key') {
      // A property named `text` inside the object at `rest` (or at the top).
      const parent: unknown = rest.reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], body);
      if (typeof parent === 'object' && parent !== null && !Array.isArray(parent)) (parent as Record<string, unknown>)[text] = 'x';
      else setAt(body!, rest, { [text]: 'x' });
      named = rest[0] ?? 'body';
    }
    if (where === 'query') query[rest[0]] = text;
    if (where === 'path') {
      path = path.replace('{field}', percentEncode(text));
      // Each API names its own path parameters (`id`, `appointmentId`, …).
      named = 'path.';
    }
    const search = Object.entries(query).map(([k, v]) => `${k}=${percentEncode(v)}`).join('&');
    return { path: search ? `${path}?${search}` : path, body, named };
  }

  async function fuzz(client: HttpTestClient, prefix: string, gateway: boolean, seed: number | undefined) {
    const all = routes(gateway);
    const cases = fc.record({
      route: fc.integer({ min: 0, max: all.length - 1 }),
      pick: fc.nat(),
      text: anyText,
    });
    const failures: string[] = [];
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(cases, async ({ route: index, pick, text }) => {
        const route = all[index];
        const field = route.fields[pick % route.fields.length];
        const request = place(route, field, text);
        const refusable = unstorable(text);
        const before = refusable ? await snapshot(t.db) : '';
        const reply: Reply = await client.request(route.method, prefix + request.path, {
          body: request.body,
          token: gateway ? admin : undefined,
        });
        const seen = `${route.label} ${field}=${JSON.stringify(text)} → ${reply.status} ${reply.text.slice(0, 300)}`;
        if (reply.status >= 500) failures.push(`5xx: ${seen}`);
        if (refusable) {
          refused++;
          const errors = JSON.stringify(reply.body?.errors ?? []);
          // A lone surrogate has no UTF-8 form, so in a path it cannot even be decoded: the router refuses the URL.
          const badUrl = field.startsWith('path.') && reply.body?.code === 'MALFORMED_URL';
          const ok = reply.status === 400 && (badUrl || (reply.body?.code === 'VALIDATION_FAILED' && errors.includes(request.named)));
          if (!ok) failures.push(`not refused by the text check: ${seen}`);
          if ((await snapshot(t.db)) !== before) failures.push(`rows changed: ${seen}`);
        }
        if (failures.length) throw new Error(failures.join('\n'));
      }),
      { numRuns: RUNS_PER_TARGET, seed, endOnFailure: true },
    );
    // The arbitraries plant unstorable text in most runs; a run that tested none of it proves nothing.
    expect(refused).toBeGreaterThan(RUNS_PER_TARGET / 4);
  }

  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

  it('the gateway refuses unstorable text in every field and answers everything else without a 5xx', async () => {
    await fuzz(t.gateway, '/v1', true, seed);
  }, 240_000);

  it('scheduling\'s own API does the same', async () => {
    await fuzz(t.direct, '', false, seed);
  }, 240_000);

  it('names the field: NUL in a provider name, a lone surrogate in a query parameter, NUL in a path id', async () => {
    const name = await t.gateway.request('POST', '/v1/providers', { token: admin, body: roundTheClockProvider({ name: 'a\u0000b' }) });
    expect({ status: name.status, code: name.body.code, errors: name.body.errors }).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'body.name', message: 'contains a NUL character (U+0000)' }],
    });
    const stored = await t.direct.request('POST', '/providers', { body: roundTheClockProvider({ name: 'x\ud800' }) });
    expect({ status: stored.status, errors: stored.body.errors }).toEqual({ status: 400, errors: [{ path: 'body.name', message: 'contains a lone UTF-16 surrogate (not Unicode text)' }] });
    const query = await t.gateway.request('GET', '/v1/appointments?clientId=a%00b', { token: admin });
    expect({ status: query.status, path: query.body.errors?.[0]?.path }).toEqual({ status: 400, path: 'query.clientId' });
    const cesu = await t.direct.request('GET', '/appointments?clientId=a%ED%A0%80');
    expect({ status: cesu.status, errors: cesu.body.errors }).toEqual({ status: 400, errors: [{ path: 'query.clientId', message: 'is not percent-encoded UTF-8' }] });
    const path = await t.direct.request('GET', '/appointments/a%00b');
    expect({ status: path.status, path: path.body.errors?.[0]?.path }).toEqual({ status: 400, path: 'path.id' });
    const key = await t.direct.request('POST', '/providers', { body: roundTheClockProvider({ contact: { ['e\u0000']: 'x' } }) });
    expect({ status: key.status, errors: key.body.errors }).toEqual({ status: 400, errors: [{ path: 'body.contact.e\ufffd', message: 'the property name contains a NUL character (U+0000)' }] });
  });

  it('answers 415 to a Content-Encoding or a charset other than UTF-8, and 400 to bytes that are not UTF-8, changing nothing', async () => {
    const before = await snapshot(t.db);
    const json = JSON.stringify(roundTheClockProvider({ name: 'Encoded' }));
    const targets = [
      { client: t.gateway, path: '/v1/providers', token: admin },
      { client: t.direct, path: '/providers', token: undefined },
    ];
    for (const { client, path, token } of targets) {
      const send = (rawBody: string | Buffer, headers: Record<string, string>) =>
        fetch(client.url + path, { method: 'POST', body: rawBody, headers: { ...headers, ...(token && { authorization: `Bearer ${token}` }) } }).then(async (r) => ({
          status: r.status,
          code: ((await r.json()) as { code?: string }).code,
        }));
      const cases: [string, string | Buffer, Record<string, string>, number, string][] = [
        ['gzip body', gzipSync(json), { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 415, 'UNSUPPORTED_CONTENT_ENCODING'],
        ['plain body labelled gzip', json, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 415, 'UNSUPPORTED_CONTENT_ENCODING'],
        ['unknown coding', json, { 'content-type': 'application/json', 'content-encoding': 'x-rot13' }, 415, 'UNSUPPORTED_CONTENT_ENCODING'],
        ['UTF-16', Buffer.from(json, 'utf16le'), { 'content-type': 'application/json; charset=utf-16' }, 415, 'UNSUPPORTED_CHARSET'],
        ['Latin-1', Buffer.from(json, 'latin1'), { 'content-type': 'application/json; charset=latin1' }, 415, 'UNSUPPORTED_CHARSET'],
        ['bytes that are not UTF-8', Buffer.concat([Buffer.from(json.slice(0, 10)), Buffer.from([0xff, 0xfe]), Buffer.from(json.slice(10))]), { 'content-type': 'application/json' }, 400, 'MALFORMED_JSON'],
      ];
      for (const [label, body, headers, status, code] of cases) {
        expect({ label, path, ...(await send(body, headers)) }).toEqual({ label, path, status, code });
      }
    }
    expect(await snapshot(t.db)).toBe(before);
    // UTF-8, named or not, and `identity` are read as before.
    const named = await t.direct.request('POST', '/providers', { rawBody: json, headers: { 'content-type': 'application/json; charset="UTF-8"', 'content-encoding': 'identity' } });
    expect(named.status).toBe(201);
  });
});
