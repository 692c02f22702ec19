import fc from 'fast-check';
import { GatewayStack, Reply, roundTheClockProvider, rowCounts, slotSequence, startGatewayStack } from './testing/gateway-stack';

/**
 * 5,200 generated malformed requests against every /v1 endpoint, with a valid admin token so
 * authorization never hides a validation gap: wrong types, bad dates and zones, huge strings, missing
 * and unknown fields, oversized bodies and URLs, malformed JSON, other content types, bad ids, bad
 * query parameters and bad Idempotency-Keys. Each targets a real provider, blocked time and
 * appointment, so a request that slipped through would change rows. Expected: no 5xx, every answer
 * problem+json, and no row changed. Set FUZZ_SEED to replay a run.
 */

type FuzzRequest = { label: string; method: string; path: string; body?: unknown; rawBody?: string; headers?: Record<string, string> };

const RUNS = 5200;
const CONCURRENCY = 20;

/** A value of any JSON type but `kind`. */
const notA = (kind: 'string' | 'number' | 'integer' | 'object' | 'boolean' | 'array') =>
  fc
    .oneof(
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
    )
    .filter((v) => {
      switch (kind) {
        case 'string':
          return typeof v !== 'string';
        case 'number':
          return typeof v !== 'number';
        case 'integer':
          return !Number.isInteger(v);
        case 'boolean':
          return typeof v !== 'boolean';
        case 'array':
          return !Array.isArray(v);
        case 'object':
          return typeof v !== 'object' || v === null || Array.isArray(v);
      }
    });

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Strings that are not instants: out-of-range fields, impossible offsets, missing offsets, words. */
const badInstant = fc.oneof(
  fc.constantFrom(
    '2030-02-30T10:00:00Z',
    '2031-04-31T10:00:00Z',
    '2030-01-01T00:00:00',
    '2030-01-01',
    '2030-01-01 10:00:00Z',
    '2030-01-01T10:00Z+01',
    'tomorrow',
    '',
    '1893456000000',
    '2030-01-01T00:00:00+25:00',
    '2030-01-01T00:00:00-99:59',
    '+002030-01-01T00:00:00Z',
  ),
  fc
    .record({ field: fc.constantFrom('month', 'day', 'hour', 'minute', 'offset'), big: fc.integer({ min: 0, max: 75 }) })
    .map(({ field, big }) => {
      const month = field === 'month' ? 13 + big : 6;
      const day = field === 'day' ? 32 + big : 15;
      const hour = field === 'hour' ? 24 + big : 10;
      const minute = field === 'minute' ? 60 + big : 30;
      const offset = field === 'offset' ? `+${pad(24 + big)}:00` : 'Z';
      return `2031-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:00${offset}`;
    }),
  fc.string({ maxLength: 30 }).map((s) => `x${s}`),
);

/** Never an IANA zone: no zone name starts with "Fuzz/"; plus the usual impostors. */
const badZone = fc.oneof(
  fc.constantFrom('Mars/Olympus_Mons', 'EST', '+05:00', 'UTC+1', 'Asia/Tokio', '', 'America/New York', '../../etc/passwd', 'x'.repeat(65)),
  fc.string({ maxLength: 30 }).map((s) => `Fuzz/${s}`),
);

const badDate = fc.oneof(fc.constantFrom('2031-1-1', '2031-02-30', '2031-13-01', '31-01-2031', 'today', '', '2031-01-01T00:00:00Z'), fc.string({ maxLength: 12 }).map((s) => `d${s}`));
const badUuid = fc.oneof(fc.constantFrom('0', 'null', '00000000-0000-0000-0000-00000000000g', '%00', '..', 'x'.repeat(300)), fc.string({ maxLength: 40 }).map((s) => `id-${s}`));
const longString = (over: number) => fc.integer({ min: over + 1, max: over + 500 }).map((n) => 'y'.repeat(n));
const oversized = fc.integer({ min: 70_000, max: 120_000 }).map((n) => 'z'.repeat(n));
const badKey = fc.oneof(fc.constantFrom('has space', 'x'.repeat(256), 'semi;colon', 'ümlaut-free?', '(parens)'), fc.string({ maxLength: 20 }).map((s) => `bad key ${s}`));
const unknownKey = fc.string({ minLength: 1, maxLength: 10 }).map((s) => `x_${s}`);

type FieldRules = Record<string, fc.Arbitrary<unknown>>;

/** One sure-to-fail change to a valid body: a bad field, a missing required field, an unknown field, or not an object at all. */
function malformedBody(valid: Record<string, unknown>, rules: FieldRules, required: string[]): fc.Arbitrary<unknown> {
  const fields = Object.keys(rules);
  const arbitraries: fc.Arbitrary<unknown>[] = [
    fc.constantFrom(...fields).chain((field) => rules[field].map((bad) => ({ ...valid, [field]: bad }))),
    fc.tuple(unknownKey, fc.jsonValue({ maxDepth: 2 })).map(([key, value]) => ({ ...valid, [key]: value })),
    fc.constantFrom(...fields).chain((field) => oversized.map((big) => ({ ...valid, [field]: big }))),
    fc.oneof(fc.constant([]), fc.array(fc.jsonValue({ maxDepth: 1 }), { minLength: 1, maxLength: 3 })),
  ];
  if (required.length) {
    arbitraries.push(fc.constantFrom(...required).map((field) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field))));
  }
  return fc.oneof(...arbitraries);
}

const rawMalformedJson = fc.constantFrom('{', '{"a":', '{"a":1,}', "{'a':1}", '{"a":1}garbage', 'null', '"string"', '123', 'true', '{"a":"\\x"}', '\u0000');
const otherContentType = fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x');

describe('fuzzing the gateway with malformed requests (e2e)', () => {
  let t: GatewayStack;
  let admin: string;
  let provider: string;
  let appointment: string;
  let blocked: string;
  const nextSlot = slotSequence();

  beforeAll(async () => {
    t = await startGatewayStack({ env: { RATE_LIMIT_PER_MINUTE: '10000000' } });
    admin = await t.token({ sub: 'fuzz-admin', roles: ['admin'] }, { expiresIn: '30m' });
    provider = (await t.direct.request('POST', '/providers', { body: roundTheClockProvider() })).body.id;
    appointment = (await t.direct.request('POST', '/appointments', { body: { providerId: provider, clientId: 'client-fuzz', start: nextSlot(), client: { timeZone: 'Asia/Tokyo' } } })).body.id;
    blocked = (await t.direct.request('POST', `/providers/${provider}/blocked-times`, { body: { start: '2031-03-01T00:00:00Z', end: '2031-03-01T01:00:00Z', reason: 'BREAK' } })).body.id;
    expect([provider, appointment, blocked].every(Boolean)).toBe(true);
  });
  afterAll(async () => t?.close());

  function requests(): fc.Arbitrary<FuzzRequest> {
    const validProvider = roundTheClockProvider({ name: 'Fuzzed' });
    const validBlocked = { start: '2031-03-02T00:00:00Z', end: '2031-03-02T01:00:00Z', reason: 'BREAK', note: 'n' };
    const validBooking = { providerId: provider, clientId: 'client-fuzz', start: nextSlot(), client: { timeZone: 'Asia/Tokyo', email: 'a@example.com' } };
    const validReschedule = { start: nextSlot() };
    const idPaths = [
      (id: string) => ({ method: 'GET', path: `/v1/providers/${id}` }),
      (id: string) => ({ method: 'PATCH', path: `/v1/providers/${id}`, body: { name: 'Renamed' } }),
      (id: string) => ({ method: 'DELETE', path: `/v1/providers/${id}` }),
      (id: string) => ({ method: 'GET', path: `/v1/providers/${id}/slots?date=2031-01-01` }),
      (id: string) => ({ method: 'GET', path: `/v1/providers/${id}/blocked-times` }),
      (id: string) => ({ method: 'POST', path: `/v1/providers/${id}/blocked-times`, body: validBlocked }),
      (id: string) => ({ method: 'DELETE', path: `/v1/providers/${id}/blocked-times/${blocked}` }),
      (id: string) => ({ method: 'DELETE', path: `/v1/providers/${provider}/blocked-times/${id}` }),
      (id: string) => ({ method: 'GET', path: `/v1/appointments/${id}` }),
      (id: string) => ({ method: 'GET', path: `/v1/appointments/${id}/events` }),
      (id: string) => ({ method: 'POST', path: `/v1/appointments/${id}/cancel` }),
      (id: string) => ({ method: 'POST', path: `/v1/appointments/${id}/reschedule`, body: validReschedule }),
      (id: string) => ({ method: 'POST', path: `/v1/appointments/${id}/complete` }),
      (id: string) => ({ method: 'POST', path: `/v1/appointments/${id}/no-show` }),
    ];
    const postsWithValidBodies: FuzzRequest[] = [
      { label: 'key', method: 'POST', path: '/v1/providers', body: validProvider },
      { label: 'key', method: 'POST', path: `/v1/providers/${provider}/blocked-times`, body: validBlocked },
      { label: 'key', method: 'POST', path: '/v1/appointments', body: validBooking },
      { label: 'key', method: 'POST', path: `/v1/appointments/${appointment}/cancel`, body: {} },
      { label: 'key', method: 'POST', path: `/v1/appointments/${appointment}/reschedule`, body: validReschedule },
    ];
    const body = (label: string, method: string, path: string, arbitrary: fc.Arbitrary<unknown>) => arbitrary.map((b): FuzzRequest => ({ label, method, path, body: b }));
    const hours = fc.oneof(notA('array'), fc.constant(['9am', '17:00']), fc.constant(['09:00']), fc.constant([['09:00', '25:00']]));
    const nonEmptyObject = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__'), fc.jsonValue({ maxDepth: 1 }), { minKeys: 1, maxKeys: 3 });
    const query = (path: string, params: fc.Arbitrary<Record<string, string | string[]>>) =>
      params.map((p): FuzzRequest => {
        const search = new URLSearchParams();
        for (const [k, v] of Object.entries(p)) for (const one of [v].flat()) search.append(k, one);
        return { label: 'query', method: 'GET', path: `${path}?${search.toString()}` };
      });

    return fc.oneof(
      // Bad ids in every path position.
      fc.tuple(fc.constantFrom(...idPaths), badUuid).map(([make, id]): FuzzRequest => ({ label: 'bad id', ...make(encodeURIComponent(id)) })),
      // Malformed bodies on every endpoint that takes one, aimed at real resources.
      body(
        'provider body',
        'POST',
        '/v1/providers',
        malformedBody(
          validProvider,
          {
            name: fc.oneof(notA('string'), longString(200), fc.constant('   ')),
            timeZone: fc.oneof(notA('string'), badZone),
            slotDurationMinutes: fc.oneof(notA('integer'), fc.integer({ min: 481, max: 10_000 }), fc.integer({ min: -100, max: 4 })),
            workingHours: fc.oneof(notA('object'), hours.map((h) => ({ MON: h })), fc.constant({ MONDAY: ['09:00', '17:00'] })),
            bookingHorizonDays: fc.oneof(notA('integer'), fc.integer({ min: 731, max: 100_000 })),
          },
          ['name', 'timeZone', 'slotDurationMinutes', 'workingHours'],
        ),
      ),
      body('patch body', 'PATCH', `/v1/providers/${provider}`, fc.oneof(fc.constant({}), malformedBody({ name: 'Renamed', minimumNoticeMinutes: 30 }, { name: fc.oneof(notA('string'), longString(200)), minimumNoticeMinutes: fc.oneof(notA('integer'), fc.integer({ min: 525_601 })) }, []))),
      body(
        'blocked body',
        'POST',
        `/v1/providers/${provider}/blocked-times`,
        fc.oneof(
          malformedBody(validBlocked, { start: fc.oneof(notA('string'), badInstant), end: fc.oneof(notA('string'), badInstant), reason: fc.oneof(notA('string'), fc.constant('HOLIDAY')), note: fc.oneof(notA('string'), longString(500)) }, ['start', 'end', 'reason']),
          fc.constant({ ...validBlocked, start: validBlocked.end, end: validBlocked.start }),
          fc.constant({ ...validBlocked, end: '2033-03-02T00:00:00Z' }),
        ),
      ),
      body(
        'booking body',
        'POST',
        '/v1/appointments',
        fc.oneof(
          malformedBody(
            validBooking,
            {
              providerId: fc.oneof(notA('string'), badUuid),
              clientId: fc.oneof(notA('string'), longString(100), fc.constant('')),
              start: fc.oneof(notA('string'), badInstant),
              end: fc.oneof(notA('string'), badInstant),
              client: fc.oneof(notA('object'), fc.constant({})),
              paymentMethod: fc.oneof(notA('string'), longString(100)),
            },
            ['providerId', 'clientId', 'start', 'client'],
          ),
          fc
            .record({ timeZone: fc.oneof(notA('string'), badZone), email: fc.constantFrom('not-an-email', 'a@', 'x'.repeat(400)), phone: fc.constantFrom('12345', '+0123', 'phone'), locale: fc.constantFrom('EN_us', 'e', '1234') }, { requiredKeys: [] })
            .filter((c) => Object.keys(c).length > 0)
            .map((bad) => ({ ...validBooking, client: { ...validBooking.client, ...bad } })),
        ),
      ),
      body('cancel body', 'POST', `/v1/appointments/${appointment}/cancel`, fc.oneof(nonEmptyObject, fc.constant({ by: 'CLIENT' }), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 2 }))),
      body('reschedule body', 'POST', `/v1/appointments/${appointment}/reschedule`, malformedBody(validReschedule, { start: fc.oneof(notA('string'), badInstant) }, ['start'])),
      body('reschedule by', 'POST', `/v1/appointments/${appointment}/reschedule`, fc.constant({ ...validReschedule, by: 'PROVIDER' })),
      fc.constantFrom('complete', 'no-show').chain((verb) => body('command body', 'POST', `/v1/appointments/${appointment}/${verb}`, fc.oneof(nonEmptyObject, fc.array(fc.integer(), { maxLength: 2 })))),
      // Bad query parameters.
      query('/v1/providers', fc.oneof(fc.record({ limit: fc.constantFrom('0', '201', '-5', 'abc', '1.5', '', ' ') }), fc.record({ cursor: badUuid }), fc.record({ x_other: fc.string() }), fc.constant({ limit: ['1', '2'] }))),
      query(
        '/v1/appointments',
        fc.oneof(
          fc.record({ status: fc.constantFrom('ACTIVE', 'confirmed', '') }),
          fc.record({ from: badInstant }),
          fc.record({ to: badInstant }),
          fc.record({ limit: fc.constantFrom('0', '999', 'ten') }),
          fc.record({ providerId: badUuid }),
          fc.record({ clientId: longString(100) }),
          fc.record({ cursor: fc.oneof(longString(200), fc.string({ maxLength: 30 }).map((s) => `c${s}`)) }),
          fc.record({ sort: fc.string() }),
        ),
      ),
      query(
        `/v1/providers/${provider}/slots`,
        fc.oneof(
          fc.constant({}),
          fc.record({ date: badDate }),
          fc.record({ date: fc.constant('2031-01-01'), timeZone: badZone }),
          fc.record({ date: fc.constant('2031-01-01'), from: fc.constant('2031-01-01'), to: fc.constant('2031-01-02') }),
          fc.record({ from: fc.constant('2031-01-01') }),
          fc.record({ from: fc.constant('2031-01-01'), to: fc.constant('2031-03-01') }),
          fc.record({ from: fc.constant('2031-01-05'), to: fc.constant('2031-01-01') }),
          fc.record({ from: badDate, to: badDate }),
          fc.record({ date: fc.constant('2031-01-01'), extra: fc.string() }),
        ),
      ),
      query(`/v1/providers/${provider}/blocked-times`, fc.oneof(fc.record({ from: badInstant }), fc.record({ to: badInstant }), fc.constant({ from: '2031-02-01T00:00:00Z', to: '2031-01-01T00:00:00Z' }), fc.record({ at: fc.string() }))),
      // Bodies the JSON parser refuses, other content types, oversized bodies and URLs.
      fc.tuple(fc.constantFrom(...postsWithValidBodies), rawMalformedJson).map(([r, raw]): FuzzRequest => ({ label: 'malformed json', method: r.method, path: r.path, rawBody: raw, headers: { 'content-type': 'application/json' } })),
      fc.tuple(fc.constantFrom(...postsWithValidBodies), otherContentType).map(([r, type]): FuzzRequest => ({ label: 'content type', method: r.method, path: r.path, rawBody: JSON.stringify(r.body), headers: { 'content-type': type } })),
      fc.tuple(fc.constantFrom(...postsWithValidBodies), oversized).map(([r, big]): FuzzRequest => ({ label: 'oversized body', method: r.method, path: r.path, body: { ...(r.body as object), padding: big } })),
      fc.integer({ min: 17_000, max: 40_000 }).map((n): FuzzRequest => ({ label: 'oversized url', method: 'GET', path: `/v1/providers?cursor=${'u'.repeat(n)}` })),
      // A valid body with a malformed Idempotency-Key.
      fc.tuple(fc.constantFrom(...postsWithValidBodies), badKey).map(([r, key]): FuzzRequest => ({ ...r, label: 'bad idempotency key', headers: { 'idempotency-key': key } })),
      // Routes and methods that do not exist.
      fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), fc.string({ maxLength: 20 })).map(([method, s]): FuzzRequest => ({ label: 'no route', method, path: `/v1/nowhere/${encodeURIComponent(s)}` })),
      fc.constantFrom('PUT', 'PATCH').map((method): FuzzRequest => ({ label: 'wrong method', method, path: `/v1/appointments/${appointment}` })),
    );
  }

  it(`answers ${RUNS} malformed requests with 4xx problem+json and changes nothing`, async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
    const samples = fc.sample(requests(), { numRuns: RUNS, seed });
    const before = await rowCounts(t.db);
    const snapshot = async () => ({
      appointment: await t.db('appointments').where({ id: appointment }).first('status', 'version', 'start_time'),
      provider: await t.db('providers').where({ id: provider }).first('version', 'name', 'deleted_at'),
    });
    const targets = await snapshot();

    const failures: { request: FuzzRequest; reply: Pick<Reply, 'status' | 'text'> & { type?: unknown } }[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < samples.length) {
        const request = samples[next++];
        const reply = await t.gateway.request(request.method, request.path, { body: request.body, rawBody: request.rawBody, headers: request.headers, token: admin });
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        const type = reply.headers['content-type'];
        const isProblem = typeof type === 'string' && type.startsWith('application/problem+json') && reply.body?.status === reply.status && typeof reply.body?.code === 'string';
        if (reply.status < 400 || reply.status >= 500 || !isProblem) failures.push({ request: { ...request, body: truncate(request.body) }, reply: { status: reply.status, type, text: reply.text.slice(0, 300) } });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const summary = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
    process.stdout.write(`fuzz seed ${seed}: ${samples.length} requests, statuses ${summary}\n`);
    expect({ seed, failures: failures.slice(0, 5), count: failures.length }).toEqual({ seed, failures: [], count: 0 });
    expect(await rowCounts(t.db)).toEqual(before);
    expect(await snapshot()).toEqual(targets);
  });
});

function truncate(body: unknown): unknown {
  const text = JSON.stringify(body);
  return text && text.length > 300 ? `${text.slice(0, 300)}…` : body;
}
