import { Client } from 'pg';
import { createLogger } from '../logging/logger';
import { eventually, TestEnvironment } from '../testing';
import { prepareDatabase } from './database';
import { PgListener } from './pg-listener';

/** The listener against the real Postgres: delivery in commit order, and saying when it cannot hear. */
describe('PgListener (real Postgres)', () => {
  const env = new TestEnvironment();
  const channel = 'listener_test';
  let sender: Client;
  let listener: PgListener | undefined;
  const log: string[] = [];

  beforeAll(async () => {
    await prepareDatabase(env.databaseUrl, 'listener');
    sender = new Client({ connectionString: env.databaseUrl });
    await sender.connect();
  });
  afterEach(async () => {
    await listener?.stop();
    listener = undefined;
    log.length = 0;
  });
  afterAll(async () => {
    await sender?.end();
    await env.destroy();
  });

  const start = async (retryMs = 100) => {
    listener = new PgListener(
      {
        connection: env.databaseUrl,
        channels: [channel, 'listener_other'],
        applicationName: 'listener-test',
        onNotification: (heardOn, payload) => log.push(`heard ${payload}${heardOn === channel ? '' : ` on ${heardOn}`}`),
        onListening: () => log.push('listening'),
        onLost: () => log.push('lost'),
        retryMs,
      },
      createLogger('test', 'silent'),
    );
    await listener.start();
    return listener;
  };
  const notify = (payload: string) => sender.query('SELECT pg_notify($1, $2)', [channel, payload]);

  it('hears commits in order on each of its channels, and nothing of a rolled-back transaction or another channel', async () => {
    const heard = await start();
    expect(heard.isListening()).toBe(true);
    await notify('a');
    await sender.query('BEGIN');
    await notify('rolled back');
    await sender.query('ROLLBACK');
    await sender.query('BEGIN');
    await notify('b');
    await notify('c');
    await sender.query('COMMIT');
    await notify('d');
    await sender.query(`SELECT pg_notify('listener_other', 'e'), pg_notify('listener_unheard', 'f')`);
    await eventually(async () => log.length === 6, 5000, 'five notifications');
    expect(log).toEqual(['listening', 'heard a', 'heard b', 'heard c', 'heard d', 'heard e on listener_other']);
  });

  it('says at once when its session is gone, listens again on a new one, and hears what comes after', async () => {
    const heard = await start();
    const { rows } = await sender.query(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'listener-test' AND datname = current_database()`,
    );
    expect(rows).toEqual([{ killed: true }]);
    await eventually(async () => log.includes('lost'), 5000, 'the loss noticed');
    // Sent while nobody listens: lost for good, which is why a consumer must forget at 'listening'.
    await eventually(async () => log.filter((l) => l === 'listening').length === 2, 5000, 'listening again');
    expect(heard.isListening()).toBe(true);
    await notify('after');
    await eventually(async () => log.includes('heard after'), 5000, 'a notification on the new session');
    expect(log).toEqual(['listening', 'lost', 'listening', 'heard after']);
  });

  it('keeps retrying while the database refuses, not listening meanwhile, and listens once it can', async () => {
    const late = new URL(env.databaseUrl);
    late.pathname = `${late.pathname}_late`;
    const waiting = new PgListener(
      {
        connection: late.toString(),
        channels: [channel],
        applicationName: 'listener-test-late',
        onNotification: (_channel, payload) => log.push(`heard ${payload}`),
        onListening: () => log.push('listening'),
        onLost: () => log.push('lost'),
        retryMs: 50,
      },
      createLogger('test', 'silent'),
    );
    listener = waiting;
    try {
      await waiting.start();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(waiting.isListening()).toBe(false);
      expect(log).toEqual([]);
      await prepareDatabase(late.toString(), 'listener');
      await eventually(async () => waiting.isListening(), 5000, 'listening once the database exists');
      expect(log).toEqual(['listening']);
    } finally {
      await waiting.stop();
      await sender.query(`DROP DATABASE IF EXISTS "${late.pathname.slice(1)}" WITH (FORCE)`);
    }
  });

  it('reports the loss once when stopped, and stays stopped', async () => {
    const heard = await start();
    await heard.stop();
    expect(heard.isListening()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(log).toEqual(['listening', 'lost']);
  });
});
