import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { eventually, TestEnvironment } from '@booking/platform/testing';

/**
 * The quick start's first command, as a newcomer runs it: `npm start` brings up a broker of its own and
 * all five services and the development inbox, each ready, and leaves no process behind when it is
 * stopped: by Ctrl-C (SIGINT to the terminal's whole process group) and by SIGTERM or SIGINT sent to the
 * npm process alone, as a supervisor or `kill` does. Ports are moved out of the way so it can run beside
 * the rest of the suite.
 */
describe('npm start (scripts/start.sh)', () => {
  const root = path.join(__dirname, '..', '..');
  const env = new TestEnvironment();

  afterAll(async () => env.destroy());

  // The first run checks the platform it brought up in full (a booking's messages in the inbox); the
  // others are stopped as soon as every service has been spawned (what they test is the signal's way
  // through npm and the script).
  const stops: [string, (pid: number) => void, 'up' | 'spawned'][] = [
    ['SIGTERM to the npm process', (pid) => process.kill(pid, 'SIGTERM'), 'up'],
    ['Ctrl-C (SIGINT to the process group)', (pid) => process.kill(-pid, 'SIGINT'), 'spawned'],
    ['SIGINT to the npm process', (pid) => process.kill(pid, 'SIGINT'), 'spawned'],
  ];

  it.each(stops)('starts the whole platform and stops all of it on %s', async (_how, stop, until) => {
    const base = 23000 + Math.floor(Math.random() * 500) * 10;
    const kafkaDataDir = path.join(root, 'tmp', `kafka-start-${process.pid}-${base}`);
    // Its own process group, as a terminal gives a foreground job.
    const child = spawn('npm', ['start'], {
      cwd: root,
      detached: true,
      env: {
        ...process.env,
        // A newcomer's shell, not jest's NODE_ENV=test.
        NODE_ENV: '',
        KAFKA_BROKERS: '',
        KAFKA_PORT: String(base),
        KAFKA_CONTROLLER_PORT: String(base + 1),
        KAFKA_DATA_DIR: kafkaDataDir,
        DATABASE_URL: env.databaseUrl,
        KAFKA_NAMESPACE: env.namespace,
        LOG_LEVEL: 'warn',
        GATEWAY_PORT: String(base + 2),
        SCHEDULING_PORT: String(base + 3),
        PAYMENT_PORT: String(base + 4),
        NOTIFICATION_PORT: String(base + 5),
        REMINDER_PORT: String(base + 6),
        DEV_INBOX_PORT: String(base + 7),
        DEV_INBOX_SMTP_PORT: String(base + 8),
        SMTP_URL: '',
        TWILIO_API_BASE_URL: '',
        PUSH_ALLOW_HTTP: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const processesOf = async () => {
      const below = await descendants(child.pid!);
      return { mains: below.filter((pid) => cmdline(pid).includes('/src/main.js')), inboxes: below.filter((pid) => cmdline(pid).includes('dist/tools/dev-inbox/main.js')) };
    };

    try {
      // A loaded 2-core machine builds, starts a broker and five services slowly.
      const deadline = Date.now() + 330_000;
      if (until === 'up') {
        while (!output.includes('platform is up') && Date.now() < deadline && child.exitCode === null) {
          await new Promise((r) => setTimeout(r, 250));
        }
        expect(output).toContain('platform is up');
        for (const service of ['scheduling', 'payment', 'notification', 'reminder', 'api-gateway']) {
          expect(output).toMatch(new RegExp(`${service} ready on http://127\\.0\\.0\\.1:\\d+`));
        }
        const ready = await fetch(`http://127.0.0.1:${base + 2}/health/ready`);
        expect(ready.status).toBe(200);
        // The token it prints is one the gateway accepts, as a newcomer would use it.
        const token = /development admin token \(8 h\): (\S+)/.exec(output)?.[1];
        expect(token).toBeDefined();
        const providers = await fetch(`http://127.0.0.1:${base + 2}/v1/providers`, { headers: { authorization: `Bearer ${token}` } });
        expect(providers.status).toBe(200);
        expect((await fetch(`http://127.0.0.1:${base + 2}/v1/providers`)).status).toBe(401);

        // The development inbox: one paid booking's messages reach it, each in its reader's language and zone.
        const inbox = `http://127.0.0.1:${base + 7}`;
        expect(output).toContain(`development inbox (every mail, SMS and push sent): ${inbox}`);
        await bookAndReadInbox(`http://127.0.0.1:${base + 2}`, token!, inbox);
      } else {
        while ((await processesOf()).mains.length < 5 && Date.now() < deadline && child.exitCode === null) {
          await new Promise((r) => setTimeout(r, 250));
        }
      }

      const { mains, inboxes } = await processesOf();
      expect(mains).toHaveLength(5);
      expect(inboxes).toHaveLength(1);
      const broker = Number(readFileSync(path.join(kafkaDataDir, 'broker.pid'), 'utf8').trim());
      expect(cmdline(broker)).toContain('kafka.Kafka');
      const pids = [...mains, ...inboxes, broker];
      stop(child.pid!);
      await exited;
      const running = (pid: number) => {
        try {
          return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        } catch {
          return false;
        }
      };
      // npm may exit on the signal before the script has finished stopping: each service may take up
      // to SHUTDOWN_TIMEOUT_MS (25 s), and the broker its own controlled shutdown (KAFKA_STOP_TIMEOUT, 20 s).
      const names = new Map(pids.map((pid) => [pid, cmdline(pid).slice(0, 160)]));
      let alive = pids.filter(running);
      for (let i = 0; i < 240 && alive.length; i++) {
        await new Promise((r) => setTimeout(r, 250));
        alive = alive.filter(running);
      }
      expect(alive.map((pid) => `${pid} ${names.get(pid)}`)).toEqual([]);
      await eventually(async () => output.includes('stopped'), 30_000, 'the script to say it stopped');
      rmSync(kafkaDataDir, { recursive: true, force: true });
    } finally {
      // A failed expectation leaves the platform running: stop it (the whole process group) all the same.
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(-child.pid!, 'SIGINT');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      }
    }
  }, 420_000);
});

type InboxMessage = { kind: 'EMAIL' | 'SMS' | 'PUSH'; to?: string | string[]; endpoint?: string; text?: string; body?: string; subject?: string; ics?: { method: string } };

/** A German provider in Berlin, a client in Tokyo: one paid booking through the gateway, then what the inbox caught. */
async function bookAndReadInbox(gateway: string, token: string, inbox: string): Promise<void> {
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${gateway}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as any };
  };
  const provider = await post('/v1/providers', {
    name: 'Dr. Lena Weber',
    timeZone: 'Europe/Berlin',
    slotDurationMinutes: 60,
    workingHours: { MON: ['09:00', '17:00'], TUE: ['09:00', '17:00'], WED: ['09:00', '17:00'], THU: ['09:00', '17:00'], FRI: ['09:00', '17:00'] },
    bookingHorizonDays: 60,
    price: { amountMinor: 8000, currency: 'EUR' },
    contact: { email: 'weber@praxis.example', phone: '+4930123456', pushEndpoint: `${inbox}/push/weber`, locale: 'de-DE' },
  });
  expect(provider.status).toBe(201);
  const day = new Date(Date.now() + 9 * 86_400_000);
  while ([0, 6].includes(day.getUTCDay())) day.setUTCDate(day.getUTCDate() + 1);
  const slots = await fetch(`${gateway}/v1/providers/${provider.body.id}/slots?date=${day.toISOString().slice(0, 10)}&timeZone=Europe/Berlin`, { headers: auth });
  const [slot] = ((await slots.json()) as { slots: { start: string }[] }).slots;
  const booked = await post('/v1/appointments', {
    providerId: provider.body.id,
    clientId: 'kenji',
    start: slot.start,
    client: { timeZone: 'Asia/Tokyo', email: 'kenji@example.jp', phone: '+819012345678', pushEndpoint: `${inbox}/push/kenji`, locale: 'en-US' },
    paymentMethod: 'tok_success',
  });
  expect(booked.status).toBe(201);
  const wanted = ['kenji@example.jp', '+819012345678', '/push/kenji', 'weber@praxis.example', '+4930123456', '/push/weber'];
  const addressOf = (m: InboxMessage) => (m.kind === 'PUSH' ? m.endpoint! : Array.isArray(m.to) ? m.to[0] : m.to!);
  let messages: InboxMessage[] = [];
  for (let i = 0; i < 120; i++) {
    messages = (await (await fetch(`${inbox}/messages.json`)).json()) as InboxMessage[];
    if (wanted.every((to) => messages.some((m) => addressOf(m) === to))) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(messages.map(addressOf).sort()).toEqual([...wanted].sort());
  const to = (address: string) => messages.find((m) => addressOf(m) === address)!;
  const inZone = (zone: string, locale: string) => new Intl.DateTimeFormat(locale, { timeZone: zone, weekday: 'long' }).format(new Date(slot.start));
  // The provider reads German in Berlin time, the client English in Tokyo time; the mails carry the invitation.
  expect(to('weber@praxis.example').text).toContain(inZone('Europe/Berlin', 'de-DE'));
  expect(to('weber@praxis.example').text).toContain('(Europe/Berlin)');
  expect(to('weber@praxis.example').text).not.toContain(inZone('Europe/Berlin', 'en-US'));
  expect(to('kenji@example.jp').text).toContain(inZone('Asia/Tokyo', 'en-US'));
  expect(to('kenji@example.jp').text).toContain('(Asia/Tokyo)');
  expect(to('kenji@example.jp').ics?.method).toBe('REQUEST');
  expect(to('+819012345678').body).toContain('(Asia/Tokyo)');
  const page = await (await fetch(inbox)).text();
  expect(page).toContain('6 messages');
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Every process below `pid` (the services), read from /proc. */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parents) if (parent === p) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}
