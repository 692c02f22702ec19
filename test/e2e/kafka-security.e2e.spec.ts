import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { baseConfigShape, kafkaSecurity, loadConfig } from '@booking/platform';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { Exit, http, loggedAt, nextMondayUtc, RunningService, runUntilExit, startService } from '../support/platform';

const ROOT = path.join(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'infra', 'kafka', 'kafka.sh');

/**
 * Kafka security against a real broker of the test's own, started by `kafka.sh` with
 * KAFKA_SECURITY=sasl_ssl: a SASL_SSL listener (SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN; the SCRAM user
 * added when the storage is formatted), a TLS listener that requires a client certificate, and
 * certificates from infra/kafka/make-test-certs.sh. The booking saga runs over it end to end; a wrong
 * password, an untrusted certificate and a host name the certificate does not carry each fail the
 * start at once, naming the cause.
 */
describe('Kafka over SASL_SSL (a broker of its own)', () => {
  const port = Number(process.env.KAFKA_SECURITY_TEST_PORT ?? 19601);
  const dataDir = path.join(ROOT, 'tmp', `kafka-security-${process.pid}`);
  const certs = path.join(dataDir, 'certs');
  // Made per run: a value written here would be published.
  const password = randomBytes(18).toString('base64url');
  const username = 'booking-e2e';
  const brokerEnv = {
    ...process.env,
    KAFKA_BROKERS: '',
    KAFKA_SECURITY: 'sasl_ssl',
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(port + 1),
    KAFKA_MTLS_PORT: String(port + 2),
    KAFKA_DATA_DIR: dataDir,
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: password,
    KAFKA_HEAP: '256m',
  };
  const broker = (command: string) => execFileSync('bash', [SCRIPT, command], { env: brokerEnv, stdio: 'pipe' }).toString();
  const secrets = mkdtempSync(path.join(tmpdir(), 'kafka-security-'));
  const passwordFile = path.join(secrets, 'kafka_sasl_password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });

  /** What a service needs to reach the secured broker (the password as a file, as in production). */
  const secured = (): Record<string, string> => ({
    KAFKA_BROKERS: `localhost:${port}`,
    KAFKA_TLS: 'true',
    KAFKA_TLS_CA: path.join(certs, 'ca.crt'),
    KAFKA_SASL_MECHANISM: 'scram-sha-256',
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD_FILE: passwordFile,
  });

  const clientOf = (env: Record<string, string>) => {
    const config = loadConfig('test', baseConfigShape, { NODE_ENV: 'test', ...env });
    return new Kafka({ clientId: 'kafka-security-e2e', brokers: config.KAFKA_BROKERS.split(','), ...kafkaSecurity('test', config), logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  };

  beforeAll(() => {
    broker('start');
  }, 180_000);

  afterAll(() => {
    broker('reset');
  }, 60_000);

  describe('the booking saga over SASL_SSL (scheduling and payment)', () => {
    const env = new TestEnvironment();
    let scheduling: RunningService;
    let payment: RunningService;

    beforeAll(async () => {
      [scheduling, payment] = await Promise.all([
        startService('scheduling', env, { ...secured(), OUTBOX_POLL_INTERVAL_MS: '100' }),
        startService('payment', env, { ...secured(), PAYMENT_PROVIDER_LATENCY_MS: '0', OUTBOX_POLL_INTERVAL_MS: '100' }),
      ]);
    }, 240_000);

    afterAll(async () => {
      await Promise.all([scheduling?.stop(), payment?.stop()]);
      await env.destroy();
    });

    it('confirms a paid booking and cancels a declined one, every event through the secured broker', async () => {
      const provider = await http('POST', `${scheduling.url}/providers`, {
        name: 'Secured clinic',
        timeZone: 'UTC',
        slotDurationMinutes: 30,
        workingHours: Object.fromEntries(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((d) => [d, ['00:00', '24:00']])),
        bookingHorizonDays: 60,
        price: { amountMinor: 5000, currency: 'USD' },
      });
      expect(provider.status).toBe(201);
      const monday = nextMondayUtc(2).getTime();
      const book = (hour: number, paymentMethod: string) =>
        http('POST', `${scheduling.url}/appointments`, {
          providerId: provider.body.id,
          clientId: 'client-1',
          start: new Date(monday + hour * 3_600_000).toISOString(),
          client: { timeZone: 'Europe/Paris' },
          paymentMethod,
        });
      const until = (id: string, status: string) =>
        eventually(async () => {
          const a = (await http('GET', `${scheduling.url}/appointments/${id}`)).body;
          return a.status === status ? a : undefined;
        }, 30_000, `appointment ${id} to be ${status}`);

      const paid = await book(10, 'tok_success');
      const declined = await book(11, 'tok_decline');
      expect([paid.status, declined.status]).toEqual([201, 201]);
      expect((await until(paid.body.id, 'CONFIRMED')).paidMinor).toBe(5000);
      expect((await until(declined.body.id, 'CANCELLED')).cancellation).toMatchObject({ by: 'SYSTEM', reason: 'PAYMENT_FAILED' });
      const charge = (await http('GET', `${payment.url}/payments?appointmentId=${paid.body.id}`)).body;
      expect(charge.payment).toMatchObject({ status: 'SUCCEEDED', amountMinor: 5000 });

      // The events are on the secured broker (the services reach no other: KAFKA_BROKERS names only it).
      const admin = clientOf(secured()).admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(`${env.namespace}.payment.v1`);
        expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(2);
      } finally {
        await admin.disconnect();
      }
    });
  });

  /** One message there and back on a topic of its own, through the platform's security options. */
  async function roundTrip(env: Record<string, string>, label: string): Promise<string> {
    const kafka = clientOf(env);
    const topic = `security-${label}-${randomBytes(3).toString('hex')}`;
    const admin = kafka.admin();
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: `${topic}-reader`, maxWaitTimeInMs: 100 });
    await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await producer.send({ topic, acks: -1, messages: [{ key: label, value: `hello over ${label}` }] });
      let received: string | undefined;
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void (received = String(message.value)) });
      return await eventually(async () => received, 20_000, `the message over ${label}`);
    } finally {
      await Promise.all([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
    }
  }

  it('carries events with SCRAM-SHA-512 and PLAIN too, and with a client certificate on the listener that requires one', async () => {
    expect(await roundTrip({ ...secured(), KAFKA_SASL_MECHANISM: 'scram-sha-512' }, 'scram-sha-512')).toBe('hello over scram-sha-512');
    expect(await roundTrip({ ...secured(), KAFKA_SASL_MECHANISM: 'plain' }, 'plain')).toBe('hello over plain');
    const mtls = {
      KAFKA_BROKERS: `localhost:${port + 2}`,
      KAFKA_TLS: 'true',
      KAFKA_TLS_CA: path.join(certs, 'ca.crt'),
      KAFKA_TLS_CERT: path.join(certs, 'client.crt'),
      KAFKA_TLS_KEY: path.join(certs, 'client.key'),
    };
    expect(await roundTrip(mtls, 'client-certificate')).toBe('hello over client-certificate');
  }, 90_000);

  describe('a start that cannot succeed fails at once, naming the cause', () => {
    const env = new TestEnvironment();
    const wrong = randomBytes(12).toString('hex');
    const byAddress = { ...secured(), KAFKA_BROKERS: `127.0.0.1:${port}` };
    let outcomes: Record<'password' | 'ca' | 'hostname', Exit>;

    /**
     * From the service's `connecting to Kafka` log line to its exit: within 10 s. kafkajs's own
     * retries of a refused connection take 20 to 30 s, a retry in the background for ever. (Measured
     * from that line, not from the spawn: how long the start before it takes depends on the machine's load.)
     */
    const kafkaMs = ({ output, exitedAt }: Exit) => {
      const connecting = loggedAt(output, 'connecting to Kafka');
      if (connecting === undefined) throw new Error(`no "connecting to Kafka" line in:\n${output}`);
      return exitedAt - connecting;
    };
    const QUICK_MS = 10_000;

    beforeAll(async () => {
      const other = path.join(dataDir, 'other-ca');
      execFileSync('bash', [path.join(ROOT, 'infra', 'kafka', 'make-test-certs.sh'), other]);
      const [password, ca, hostname] = await Promise.all([
        runUntilExit('payment', env, { ...secured(), LOG_LEVEL: 'info', KAFKA_SASL_PASSWORD_FILE: '', KAFKA_SASL_PASSWORD: wrong }),
        runUntilExit('scheduling', env, { ...secured(), LOG_LEVEL: 'info', KAFKA_TLS_CA: path.join(other, 'ca.crt') }),
        runUntilExit('reminder', env, { ...byAddress, LOG_LEVEL: 'info' }),
      ]);
      outcomes = { password, ca, hostname };
    }, 180_000);

    afterAll(() => env.destroy());

    it('a wrong password', () => {
      const { code, output } = outcomes.password;
      expect(code).toBe(1);
      expect(output).toContain(`Kafka refused the SASL login of user "${username}" with SCRAM-SHA-256`);
      expect(output).toContain('check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM');
      expect(output).not.toContain(wrong);
      expect(kafkaMs(outcomes.password)).toBeLessThan(QUICK_MS);
    });

    it('a broker certificate signed by a CA the service does not trust', () => {
      const { code, output } = outcomes.ca;
      expect(code).toBe(1);
      expect(output).toContain(`the TLS certificate of the Kafka broker at localhost:${port} is not trusted (SELF_SIGNED_CERT_IN_CHAIN`);
      expect(output).toContain('KAFKA_TLS_CA must name the CA that signed it');
      expect(kafkaMs(outcomes.ca)).toBeLessThan(QUICK_MS);
    });

    it('a broker address the certificate does not name, unless KAFKA_TLS_SERVERNAME names what it does', async () => {
      const { code, output } = outcomes.hostname;
      expect(code).toBe(1);
      expect(output).toContain(`the TLS certificate of the Kafka broker at 127.0.0.1:${port} does not name the host dialled`);
      expect(output).toContain('KAFKA_TLS_SERVERNAME');
      expect(kafkaMs(outcomes.hostname)).toBeLessThan(QUICK_MS);
      expect(await roundTrip({ ...byAddress, KAFKA_TLS_SERVERNAME: 'localhost' }, 'servername')).toBe('hello over servername');
    }, 60_000);
  });
});
