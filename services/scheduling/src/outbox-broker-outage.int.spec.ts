import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { TOPICS } from '@booking/contracts';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { newYorkProvider, SchedulingTestApp, startSchedulingApp } from './testing/scheduling-app';

/**
 * Bookings go on while Kafka is down: their events wait in the outbox and reach the broker, all of
 * them and in order per appointment, once it is back. This test runs its own broker so that it can
 * stop it without disturbing other test files.
 */
describe('outbox while the broker is down', () => {
  const script = path.join(__dirname, '..', '..', '..', 'infra', 'kafka', 'kafka.sh');
  const brokerEnv = {
    ...process.env,
    KAFKA_BROKERS: '',
    KAFKA_PORT: process.env.OUTAGE_KAFKA_PORT ?? '19392',
    KAFKA_CONTROLLER_PORT: process.env.OUTAGE_KAFKA_CONTROLLER_PORT ?? '19393',
    KAFKA_DATA_DIR: path.join(__dirname, '..', '..', '..', 'tmp', `kafka-outage-${process.pid}`),
  };
  const broker = (command: string) => execFileSync('bash', [script, command], { env: brokerEnv, stdio: 'pipe' });
  const brokers = `127.0.0.1:${brokerEnv.KAFKA_PORT}`;
  const env = new TestEnvironment();
  let t: SchedulingTestApp;

  beforeAll(async () => {
    broker('start');
    t = await startSchedulingApp({
      now: '2030-03-04T12:00:00.000Z',
      environment: env,
      env: { KAFKA_BROKERS: brokers },
    });
  }, 120000);

  afterAll(async () => {
    await t?.close();
    await env.destroy();
    broker('reset');
  }, 60000);

  it('delivers every event written during the outage, in order per appointment', async () => {
    const provider = (await t.request('POST', '/providers', newYorkProvider())).body;
    broker('stop');

    const ids: string[] = [];
    for (const start of ['2030-03-05T14:00:00Z', '2030-03-05T15:00:00Z', '2030-03-05T16:00:00Z']) {
      const booked = await t.request('POST', '/appointments', { providerId: provider.id, clientId: 'c', start, client: { timeZone: 'UTC' } });
      expect(booked.status).toBe(201); // free: Requested + Confirmed
      ids.push(booked.body.id);
      expect((await t.request('POST', `/appointments/${booked.body.id}/cancel`, { by: 'CLIENT' })).status).toBe(200);
    }
    const waiting = await t.platform.knex('outbox').where({ topic: TOPICS.appointment }).count<{ count: string }[]>('* as count');
    expect(Number(waiting[0].count)).toBe(9);

    broker('start');
    await eventually(async () => {
      const left = await t.platform.knex('outbox').count<{ count: string }[]>('* as count');
      return Number(left[0].count) === 0;
    }, 90000, 'outbox to drain');

    const kafka = new Kafka({ brokers: [brokers], clientId: `${env.id}-reader`, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `${env.id}-reader` });
    const seen: { key: string; type: string; version: number }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: `${env.namespace}.${TOPICS.appointment}`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const envelope = JSON.parse(String(message.value));
        seen.push({ key: String(message.key), type: envelope.type, version: envelope.aggregateVersion });
      },
    });
    await eventually(async () => seen.length >= 9, 30000, 'nine events');
    await consumer.disconnect();
    expect(seen).toHaveLength(9);
    for (const id of ids) {
      expect(seen.filter((e) => e.key === id)).toEqual([
        { key: id, type: 'AppointmentRequested', version: 1 },
        { key: id, type: 'AppointmentConfirmed', version: 2 },
        { key: id, type: 'AppointmentCancelled', version: 3 },
      ]);
    }
  }, 180000);
});
