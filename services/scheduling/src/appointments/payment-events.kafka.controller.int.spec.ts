import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { Client } from 'pg';
import { dlqTopic, Envelope, TOPICS } from '@booking/contracts';
import { buildEnvelope, consumerMetrics, ProblemError } from '@booking/platform';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { newYorkProvider, SchedulingTestApp, startSchedulingApp } from '../testing/scheduling-app';
import { AppointmentsService, lockStreamsStatement } from './appointments.service';
import { PaymentEventsKafkaController } from './payment-events.kafka.controller';

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] };

/**
 * Payment outcomes arriving together (one produce request, one partition, the service stopped while
 * they are written) are applied in one transaction; a bad one in the middle sends the run one by one,
 * so only it is dead-lettered. Also: a command that waited for another writer's lock sees its event.
 */
describe('payment outcomes in batches (scheduling, real Kafka and Postgres)', () => {
  const env = new TestEnvironment();
  const NOW = '2030-03-04T12:00:00.000Z';
  const PRICE = 5000;
  let t: SchedulingTestApp;
  let kafka: Kafka;
  let producer: Producer;
  let providerId: string;
  let slot = 0;

  // The relay polls only once a minute here: whatever leaves within a test was woken, by a NOTIFY or in-process.
  const start = (extra: Record<string, string> = {}) =>
    startSchedulingApp({ now: NOW, environment: env, env: { HOLD_TTL_SECONDS: '900', OUTBOX_POLL_INTERVAL_MS: '60000', ...extra } });

  beforeAll(async () => {
    t = await start();
    const provider = await t.request('POST', '/providers', newYorkProvider({ price: { amountMinor: PRICE, currency: 'USD' } }));
    expect(provider.status).toBe(201);
    providerId = provider.body.id;
    kafka = new Kafka({ brokers: env.env().KAFKA_BROKERS!.split(','), clientId: `${env.id}-test`, logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
  }, 60000);

  afterAll(async () => {
    await producer?.disconnect();
    await t?.close();
    await env.destroy();
  });

  /** A PENDING paid appointment, each on its own half hour of the weekdays from Tuesday 2030-03-05 in New York. */
  async function pending(): Promise<string> {
    // 16 half hours a weekday (09:00-17:00 in New York), from Tuesday 2030-03-05 on.
    const day = [5, 6, 7, 8, 11, 12, 13, 14][Math.floor(slot / 16)];
    const at = new Date(Date.parse(`2030-03-${String(day).padStart(2, '0')}T14:00:00Z`) + (slot++ % 16) * 30 * 60_000).toISOString();
    const res = await t.request('POST', '/appointments', { providerId, clientId: 'c', start: at, client: { timeZone: 'UTC' } });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('PENDING');
    const history = await t.request('GET', `/appointments/${res.body.id}/events`);
    requests.set(res.body.id, history.body.items[0].eventId);
    return res.body.id;
  }

  /** Each appointment's AppointmentRequested event id: what payment's outcomes answer. */
  const requests = new Map<string, string>();

  /** The outcome payment would produce for the appointment's request; `data` overrides any of it. */
  const outcome = (type: 'PaymentSucceeded' | 'PaymentFailed', appointmentId: string, data: Record<string, unknown> = {}): Envelope =>
    buildEnvelope({
      topic: TOPICS.payment,
      type,
      aggregateId: appointmentId,
      aggregateVersion: 1,
      data: {
        appointmentId,
        paymentId: randomUUID(),
        requestEventId: requests.get(appointmentId) ?? randomUUID(),
        ...(type === 'PaymentSucceeded' ? { amountMinor: PRICE, currency: 'USD' } : { reason: 'card_declined' }),
        ...data,
      },
    });

  /** While the service is stopped, so that its first fetch gets them as one batch. */
  async function deliverTogether(events: Envelope[]): Promise<void> {
    await t.close();
    await producer.send({
      topic: t.platform.topic(TOPICS.payment),
      acks: -1,
      messages: events.map((e) => ({ key: e.aggregateId, value: JSON.stringify(e), partition: 0 })),
    });
    t = await start();
  }

  const statusOf = async (id: string) => (await t.request('GET', `/appointments/${id}`)).body;
  const typesOf = async (id: string) => (await t.request('GET', `/appointments/${id}/events`)).body.items.map((e: { type: string }) => e.type);

  it('confirms a run of outcomes in one transaction, and dead-letters only the bad one of another', async () => {
    const applyAll = jest.spyOn(PaymentEventsKafkaController.prototype as unknown as { applyAll: (events: Envelope[]) => Promise<void> }, 'applyAll');
    const [a, b, c, d, e] = [await pending(), await pending(), await pending(), await pending(), await pending()];
    const unknown = randomUUID();
    await deliverTogether([
      outcome('PaymentSucceeded', a),
      outcome('PaymentSucceeded', b),
      outcome('PaymentSucceeded', unknown), // no such appointment: the run's transaction rolls back
      outcome('PaymentSucceeded', c),
      outcome('PaymentFailed', d),
      outcome('PaymentSucceeded', e),
    ]);
    await eventually(async () => (await statusOf(e)).status === 'CONFIRMED', 20000, 'the last outcome applied');
    expect((await statusOf(d)).status).toBe('CANCELLED');
    for (const id of [a, b, c, e]) {
      expect(await statusOf(id)).toMatchObject({ status: 'CONFIRMED', paidMinor: PRICE, version: 2 });
      expect(await typesOf(id)).toEqual(['AppointmentRequested', 'AppointmentConfirmed']);
    }
    // The first run held a, b, the unknown one and c; it failed as a whole and went one by one.
    expect(applyAll.mock.calls[0][0]).toHaveLength(4);
    await expect(applyAll.mock.results[0].value).rejects.toThrow();
    const dead = await deadLetters(1);
    expect(dead.map((m) => m.key)).toEqual([unknown]);

    // A run without a bad outcome is one transaction and nothing more.
    const [f, g, h] = [await pending(), await pending(), await pending()];
    applyAll.mockClear();
    await deliverTogether([outcome('PaymentSucceeded', f), outcome('PaymentSucceeded', g), outcome('PaymentSucceeded', h)]);
    await eventually(async () => (await statusOf(h)).status === 'CONFIRMED', 20000, 'the batch applied');
    expect(applyAll).toHaveBeenCalledTimes(1);
    await expect(applyAll.mock.results[0].value).resolves.toBeUndefined();
    for (const id of [f, g, h]) expect(await typesOf(id)).toEqual(['AppointmentRequested', 'AppointmentConfirmed']);
    applyAll.mockRestore();
  });

  it('confirms a PENDING appointment without notifying the availability channel; a cancellation does notify', async () => {
    const listener = new Client({ connectionString: env.databaseUrl });
    const heard: string[] = [];
    await listener.connect();
    try {
      listener.on('notification', (n) => heard.push(n.payload ?? ''));
      await listener.query(`LISTEN ${t.platform.schema}_availability`);
      // A notification committed after another reaches a listener after it: a marker sent once the
      // confirmation has committed bounds everything the confirmation could have notified.
      const heardUpTo = async (marker: string) => {
        await t.platform.knex.raw(`SELECT pg_notify(?, ?)`, [`${t.platform.schema}_availability`, marker]);
        await eventually(async () => heard.includes(marker), 20000, `the marker ${marker}`);
        return heard.splice(0, heard.indexOf(marker) + 1).slice(0, -1);
      };
      const id = await pending();
      expect(await heardUpTo('booked')).toContain(providerId);

      await producer.send({ topic: t.platform.topic(TOPICS.payment), acks: -1, messages: [{ key: id, value: JSON.stringify(outcome('PaymentSucceeded', id)) }] });
      await eventually(async () => (await statusOf(id)).status === 'CONFIRMED', 30000, 'the confirmation');
      expect(await heardUpTo('confirmed')).toEqual([]);

      expect((await t.request('POST', `/appointments/${id}/cancel`, { by: 'CLIENT' })).status).toBe(200);
      expect(await heardUpTo('cancelled')).toEqual([providerId]);
    } finally {
      await listener.end();
    }
  });

  it("sends confirmations through the instance's own active relay, woken in-process after the commit, without a NOTIFY", async () => {
    const listener = new Client({ connectionString: env.databaseUrl });
    const heard: string[] = [];
    await listener.connect();
    try {
      listener.on('notification', (n) => heard.push(n.payload ?? ''));
      const channel = `${t.platform.schema}_outbox`;
      await listener.query(`LISTEN ${channel}`);
      const [a, b] = [await pending(), await pending()];
      await eventually(async () => heard.length >= 2, 20000, "the bookings' notifications");
      expect(t.platform.relay.isLeader()).toBe(true);
      heard.length = 0;
      await producer.send({
        topic: t.platform.topic(TOPICS.payment),
        acks: -1,
        messages: [a, b].map((id) => ({ key: id, value: JSON.stringify(outcome('PaymentSucceeded', id)) })),
      });
      // Published without a poll (a minute away): the relay was woken in-process.
      const published = await readAppointmentEvents([a, b], 'AppointmentConfirmed');
      expect([...published.keys()].sort()).toEqual([a, b].sort());
      // A marker notified after the confirmations committed bounds what they could have notified: nothing.
      await t.platform.knex.raw('SELECT pg_notify(?, ?)', [channel, 'marker']);
      await eventually(async () => heard.includes('marker'), 20000, 'the marker');
      expect(heard).toEqual(['marker']);
    } finally {
      await listener.end();
    }
  });

  it('applies a command that waited for the lock of another writer on top of that writer’s event', async () => {
    const id = await pending();
    const appointments = t.app.get(AppointmentsService);
    const first = await t.platform.knex.transaction();
    let second: Promise<unknown> | undefined;
    try {
      await appointments.execute(id, (at) => ({ type: 'ConfirmAppointment', appointmentId: id, paymentId: 'pay-1', amountMinor: PRICE, currency: 'USD', at }), first);
      // This one reads the stream before the confirmation commits and waits for the row lock.
      second = appointments.execute(id, (at) => ({ type: 'CancelAppointment', appointmentId: id, by: 'CLIENT', reason: 'CLIENT_REQUEST', at }));
      await lockWaited('the second command to wait for the lock');
      await first.commit();
    } catch (error) {
      await first.rollback();
      throw error;
    }
    await expect(second).resolves.toMatchObject({ status: 'CANCELLED', version: 3 });
    expect(await typesOf(id)).toEqual(['AppointmentRequested', 'AppointmentConfirmed', 'AppointmentCancelled']);
  });

  it('executeMany: one lock-and-read and one write for several appointments, each event with its own correlation, a locked one applied on top of its writer', async () => {
    const [a, b, c] = [await pending(), await pending(), await pending()];
    const appointments = t.app.get(AppointmentsService);
    const confirm = (id: string, paymentId: string) => (at: string) => ({ type: 'ConfirmAppointment' as const, appointmentId: id, paymentId, amountMinor: PRICE, currency: 'USD', at });
    // Another writer confirms c and holds its lock; the batch cancels c on top of that confirmation.
    const other = await t.platform.knex.transaction();
    const batchTrx = await t.platform.knex.transaction();
    let batch: Promise<unknown> | undefined;
    try {
      await appointments.execute(c, confirm(c, 'pay-c'), other);
      batch = appointments.executeMany(batchTrx, [
        { appointmentId: a, command: confirm(a, 'pay-a'), correlation: { correlationId: 'corr-a', causationId: 'cause-a' } },
        { appointmentId: b, command: confirm(b, 'pay-b'), correlation: { correlationId: 'corr-b', causationId: 'cause-b' } },
        {
          appointmentId: c,
          command: (at) => ({ type: 'CancelAppointment', appointmentId: c, by: 'CLIENT', reason: 'CLIENT_REQUEST', at }),
          correlation: { correlationId: 'corr-c' },
        },
      ]);
      await lockWaited('the batch to wait for the lock');
      await other.commit();
      await batch;
      await batchTrx.commit();
    } catch (error) {
      await other.rollback().catch(() => undefined);
      await batch?.catch(() => undefined);
      await batchTrx.rollback().catch(() => undefined);
      throw error;
    }
    expect(await statusOf(a)).toMatchObject({ status: 'CONFIRMED', version: 2, paidMinor: PRICE });
    expect(await statusOf(b)).toMatchObject({ status: 'CONFIRMED', version: 2, paidMinor: PRICE });
    expect(await statusOf(c)).toMatchObject({ status: 'CANCELLED', version: 3 });
    expect(await typesOf(c)).toEqual(['AppointmentRequested', 'AppointmentConfirmed', 'AppointmentCancelled']);
    const { rows } = await t.platform.knex.raw(
      `SELECT stream_id::text AS id, type, correlation_id FROM events WHERE stream_id = ANY(?::uuid[]) AND version > 1 ORDER BY stream_id, version`,
      [[a, b, c]],
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { id: a, type: 'AppointmentConfirmed', correlation_id: 'corr-a' },
        { id: b, type: 'AppointmentConfirmed', correlation_id: 'corr-b' },
        { id: c, type: 'AppointmentCancelled', correlation_id: 'corr-c' },
      ]),
    );
    // What leaves through the outbox carries the same correlation, and the source event as causation.
    const published = await readAppointmentEvents([a, b], 'AppointmentConfirmed');
    expect(published.get(a)).toMatchObject({ correlationId: 'corr-a', causationId: 'cause-a', aggregateVersion: 2, data: { paymentId: 'pay-a' } });
    expect(published.get(b)).toMatchObject({ correlationId: 'corr-b', causationId: 'cause-b', aggregateVersion: 2, data: { paymentId: 'pay-b' } });
  });

  it('executeMany refuses the whole batch when one command is refused, and writes nothing', async () => {
    const [a, b] = [await pending(), await pending()];
    const appointments = t.app.get(AppointmentsService);
    // The transaction rolls back when executeMany throws.
    const run = t.platform.knex.transaction((trx) => appointments.executeMany(trx, [
      { appointmentId: a, command: (at) => ({ type: 'ConfirmAppointment', appointmentId: a, paymentId: 'p', amountMinor: PRICE, currency: 'USD', at }), correlation: { correlationId: 'x' } },
      // b is PENDING: completing it is not a transition the lifecycle allows.
      { appointmentId: b, command: (at) => ({ type: 'CompleteAppointment', appointmentId: b, at }), correlation: { correlationId: 'y' } },
    ]));
    const error = await run.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).getStatus()).toBe(409);
    expect(await statusOf(a)).toMatchObject({ status: 'PENDING', version: 1 });
    expect(await statusOf(b)).toMatchObject({ status: 'PENDING', version: 1 });
  });

  it("executeMany reads each stream through its index, not by scanning every stored event, on tables never analysed", async () => {
    const [a, b] = [await pending(), await pending()];
    // What earlier load leaves: many other streams' events, and no statistics (nothing has analysed the
    // table here; where autovacuum runs it may have, and the plan must be the same either way).
    await t.platform.knex.raw(
      `INSERT INTO events (event_id, stream_id, stream_type, version, type, data, occurred_at)
       SELECT gen_random_uuid(), gen_random_uuid(), 'plan-test', 1, 'Filler', '{}'::jsonb, now() FROM generate_series(1, 20000)`,
    );
    // The plan a prepared statement settles on after its first executions: the generic one.
    const plan = await t.platform.knex.transaction(async (trx) => {
      await trx.raw('SET LOCAL plan_cache_mode = force_generic_plan');
      await trx.raw(`PREPARE lock_streams_plan(uuid[]) AS ${lockStreamsStatement(t.platform.schema)}`);
      try {
        const { rows } = await trx.raw(`EXPLAIN (FORMAT JSON) EXECUTE lock_streams_plan('{${a},${b}}')`);
        return rows[0]['QUERY PLAN'][0].Plan as PlanNode;
      } finally {
        await trx.raw('DEALLOCATE lock_streams_plan');
      }
    });
    const nodes: PlanNode[] = [];
    const walk = (node: PlanNode) => {
      nodes.push(node);
      node.Plans?.forEach(walk);
    };
    walk(plan);
    const onEvents = nodes.filter((n) => n['Relation Name'] === 'events' || String(n['Index Name']).startsWith('events_'));
    expect(onEvents.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    expect(onEvents.some((n) => n['Index Name'] === 'events_stream_id_version_key')).toBe(true);
    // And it still reads both streams in order.
    const states = await t.platform.knex.transaction((trx) =>
      t.app.get(AppointmentsService).executeMany(trx, [
        { appointmentId: a, command: (at) => ({ type: 'ConfirmAppointment', appointmentId: a, paymentId: 'pa', amountMinor: PRICE, currency: 'USD', at }) },
        { appointmentId: b, command: (at) => ({ type: 'CancelAppointment', appointmentId: b, by: 'CLIENT', reason: 'CLIENT_REQUEST', at }) },
      ]),
    );
    expect(states.map((s) => [s.status, s.version])).toEqual([
      ['CONFIRMED', 2],
      ['CANCELLED', 2],
    ]);
  });

  it('dead-letters forged and mismatched outcomes with their reason, counts them, and leaves the appointment waiting for its real one', async () => {
    const [target, other] = [await pending(), await pending()];
    const counted = async () =>
      (await consumerMetrics().messages.get()).values
        .filter((v) => v.labels.outcome === 'dead_lettered' && String(v.labels.topic).endsWith(TOPICS.payment))
        .reduce((sum, v) => sum + v.value, 0);
    const before = await counted();
    const forged: [string, Envelope][] = [
      // The example: 1 JPY from an unknown payment, keyed by the appointment.
      ['amountMinor 1 is not the price 5000', outcome('PaymentSucceeded', target, { amountMinor: 1, currency: 'JPY' })],
      ['amountMinor 4999 is not the price 5000', outcome('PaymentSucceeded', target, { amountMinor: PRICE - 1 })],
      ['currency EUR is not the price', outcome('PaymentSucceeded', target, { currency: 'EUR' })],
      // Right amount, but the outcome of another appointment's request (a copied or misrouted event).
      [`this answers ${requests.get(other)}`, outcome('PaymentSucceeded', target, { requestEventId: requests.get(other) })],
      // A failure that answers no request of this appointment may not cancel it.
      ['this answers', outcome('PaymentFailed', target, { requestEventId: randomUUID() })],
    ];
    for (const [, event] of forged) {
      await producer.send({ topic: t.platform.topic(TOPICS.payment), acks: -1, messages: [{ key: event.aggregateId, value: JSON.stringify(event) }] });
    }
    const dead = await deadLetters(forged.length, (key) => key === target);
    const reasons = dead.map((d) => d.headers['dlq-reason']);
    for (const [reason] of forged) expect(reasons.some((r) => r.includes(reason))).toBe(true);
    // Refused on the first attempt: retrying a contradiction cannot help.
    expect(dead.every((d) => d.headers['dlq-attempts'] === '1')).toBe(true);
    expect(await counted()).toBeGreaterThanOrEqual(before + forged.length);
    expect(await statusOf(target)).toMatchObject({ status: 'PENDING', version: 1, paidMinor: 0, paymentId: null });
    expect(await typesOf(target)).toEqual(['AppointmentRequested']);

    // The genuine outcome still confirms it, with its own payment.
    const genuine = outcome('PaymentSucceeded', target);
    await producer.send({ topic: t.platform.topic(TOPICS.payment), acks: -1, messages: [{ key: genuine.aggregateId, value: JSON.stringify(genuine) }] });
    await eventually(async () => (await statusOf(target)).status === 'CONFIRMED', 20000, 'the genuine outcome applied');
    expect(await statusOf(target)).toMatchObject({ status: 'CONFIRMED', paidMinor: PRICE, paymentId: genuine.data.paymentId });
    expect(await statusOf(other)).toMatchObject({ status: 'PENDING', version: 1 });
  });

  it('dead-letters at once an outcome whose appointment id is not a UUID, without retrying it', async () => {
    const event = outcome('PaymentSucceeded', 'not-a-uuid');
    await producer.send({ topic: t.platform.topic(TOPICS.payment), acks: -1, messages: [{ key: event.aggregateId, value: JSON.stringify(event) }] });
    const [dead] = await deadLetters(1, (key) => key === 'not-a-uuid');
    expect(dead.headers['dlq-attempts']).toBe('1');
    expect(dead.headers['dlq-reason']).toContain('appointmentId must be a UUID');
  });

  // Last: a second instance joins the consumer group while it runs.
  it("notifies the active relay of another instance when this one's relay stands by", async () => {
    const standby = await start();
    const listener = new Client({ connectionString: env.databaseUrl });
    let notified = 0;
    await listener.connect();
    try {
      listener.on('notification', () => notified++);
      await listener.query(`LISTEN ${t.platform.schema}_outbox`);
      const id = await pending();
      await eventually(async () => notified >= 1, 20000, "the booking's notification");
      notified = 0;
      expect(standby.platform.relay.isLeader()).toBe(false);
      const appointments = standby.app.get(AppointmentsService);
      await standby.platform.writeOutbox((notify) =>
        standby.platform.knex.transaction((trx) =>
          appointments.executeMany(
            trx,
            [{ appointmentId: id, command: (at) => ({ type: 'ConfirmAppointment', appointmentId: id, paymentId: 'pay-standby', amountMinor: PRICE, currency: 'USD', at }) }],
            { notify },
          ),
        ),
      );
      // Sent by the other instance's relay, which only a NOTIFY wakes before its poll.
      expect((await readAppointmentEvents([id], 'AppointmentConfirmed')).get(id)).toMatchObject({ data: { paymentId: 'pay-standby' } });
      expect(notified).toBeGreaterThanOrEqual(1);
    } finally {
      await listener.end();
      await standby.close();
    }
  });

  /** Until some session waits for a row lock. */
  async function lockWaited(what: string): Promise<void> {
    await eventually(
      async () => {
        const { rows } = await t.platform.knex.raw(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
        return rows[0].n > 0;
      },
      10000,
      what,
    );
  }

  /** The first published event of `type` for each appointment, read from the appointment topic. */
  async function readAppointmentEvents(ids: string[], type: string): Promise<Map<string, Envelope>> {
    const found = new Map<string, Envelope>();
    const reader = kafka.consumer({ groupId: `${env.id}-appt-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await reader.connect();
    try {
      await reader.subscribe({ topic: t.platform.topic(TOPICS.appointment), fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          const event = JSON.parse(String(message.value)) as Envelope;
          if (event.type === type && ids.includes(event.aggregateId) && !found.has(event.aggregateId)) found.set(event.aggregateId, event);
        },
      });
      await eventually(async () => found.size === ids.length, 20000, `${type} for ${ids.length} appointments`);
    } finally {
      await reader.disconnect();
    }
    return found;
  }

  /** Dead letters of the payment topic with a matching key, once there are `expected` of them. */
  async function deadLetters(expected: number, match: (key: string) => boolean = () => true) {
    const out: { key: string; headers: Record<string, string> }[] = [];
    const reader = kafka.consumer({ groupId: `${env.id}-dlq-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await reader.connect();
    try {
      await reader.subscribe({ topic: dlqTopic(t.platform.topic(TOPICS.payment)), fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          const key = String(message.key);
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]));
          if (match(key)) out.push({ key, headers });
        },
      });
      await eventually(async () => out.length >= expected, 20000, 'dead letters');
    } finally {
      await reader.disconnect();
    }
    return out;
  }
});
