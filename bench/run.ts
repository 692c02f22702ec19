import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { baseConfigShape, fixKafkajsIdleTimer } from '@booking/platform';
import { gatewayConfigShape } from '../services/api-gateway/src/config';
import { paymentConfigShape } from '../services/payment/src/config';
import { schedulingConfigShape } from '../services/scheduling/src/config';
import { benchGateway, gatewayBenchEnv } from './gateway.bench';
import { benchGrowth } from './growth.bench';
import { benchObservability } from './observability.bench';
import { benchOverload } from './overload.bench';
import { runReminderBench } from './reminder.bench';
import { benchSaga } from './saga.bench';
import { benchScheduling, measureBookingAnchor, prepareBooking, SchedulingBenchOptions } from './scheduling.bench';
import { runSlotEngineBench } from './slot-engine.bench';
import { BenchRow, drain, freshDatabase, paused, ROOT, startService, withPg } from './lib';

/**
 * `npm run bench`: measures the platform against anchors taken in the same run on the same machine,
 * prints one table, and writes it as JSON and Markdown under bench/results/, with what the run needs to
 * be reproduced (commit, environment, machine, the pgbench scripts it ran). `--quick` keeps it short.
 * Loads are bounded and stay on loopback.
 */
async function main(): Promise<void> {
  const restore = await productionSettings(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/booking');
  try {
    await run();
  } finally {
    await restore();
  }
}

/**
 * The database runs as the operations docs prescribe for production: autovacuum on. A development server
 * with it off (as on these machines) gets it on for the run (ALTER SYSTEM and a reload, which needs a
 * superuser) and back as it was afterwards; a run that cannot turn it on says so and records it off.
 * Without it, no table is ever analysed or vacuumed and every section pays for the ones before it.
 */
async function productionSettings(databaseUrl: string): Promise<() => Promise<void>> {
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const setting = () => withPg(admin.toString(), async (c) => (await c.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0].autovacuum);
  if ((await setting()) === 'on') return async () => undefined;
  const turnedOn = await withPg(admin.toString(), async (c) => {
    if (!(await c.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0]?.rolsuper) return false;
    await c.query('ALTER SYSTEM SET autovacuum = on');
    await c.query('SELECT pg_reload_conf()');
    return true;
  });
  if (!turnedOn) {
    process.stderr.write('bench: autovacuum is off on this server and this role may not turn it on: the run goes on without it (recorded)\n');
    return async () => undefined;
  }
  // The reload reaches the server's processes a moment later.
  for (let i = 0; i < 50 && (await setting()) !== 'on'; i++) await new Promise((r) => setTimeout(r, 100));
  process.stderr.write('bench: autovacuum was off on this server; it is on for the run (ALTER SYSTEM) and reset afterwards\n');
  return () =>
    withPg(admin.toString(), async (c) => {
      await c.query('ALTER SYSTEM RESET autovacuum');
      await c.query('SELECT pg_reload_conf()');
    });
}

async function run(): Promise<void> {
  const quick = process.argv.includes('--quick');
  // `--only saga,reminder` runs just those sections (slot-engine, scheduling, gateway, saga, reminder, growth, overload, observability).
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg >= 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',').filter(Boolean)) : undefined;
  const runs = (section: string) => !only || only.has(section);
  const resultsDir = path.join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const started = Date.now();
  const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
  // A run's own files (the pgbench scripts) sit next to its results under the same stamp; `--only` runs
  // record nothing under bench/results/ and keep them in a temporary directory.
  const artifactsDir = only ? mkdtempSync(path.join(os.tmpdir(), `booking-bench-${stamp}-`)) : resultsDir;
  const artifacts: string[] = [];
  const artifact = (name: string) => {
    const file = path.join(artifactsDir, `${stamp}.${name}`);
    artifacts.push(file);
    return file;
  };
  const rows: BenchRow[] = [];

  if (runs('slot-engine')) {
    const engine = await runSlotEngineBench({ quick });
    rows.push({
      section: 'slot engine',
      name: '31 days, 500 busy ranges: queries/s',
      value: Math.round(engine.engineOpsPerSec),
      unit: 'ops/s',
      anchorName: "design card's naive algorithm",
      anchorValue: Math.round(engine.naiveOpsPerSec),
      ratio: Math.round(engine.ratio * 10) / 10,
      target: '≥ 20',
      pass: engine.ratio >= 20,
      note: `${engine.engineMsPerQuery.toFixed(3)} ms vs ${engine.naiveMsPerQuery.toFixed(3)} ms per query; cold zone cache ${engine.coldRatio.toFixed(1)}×`,
    });
  }

  if (runs('scheduling') || runs('gateway') || runs('saga')) {
    const databaseUrl = await freshDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/booking', 'booking_bench');
    const env = {
      DATABASE_URL: databaseUrl,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
      KAFKA_NAMESPACE: `bench${Date.now().toString(36)}`,
      // The services are stopped (SIGSTOP) while pgbench runs: a session longer than that keeps their
      // consumers in their groups meanwhile, instead of a rebalance after every anchor.
      KAFKA_SESSION_TIMEOUT_MS: '60000',
    };
    const scheduling = await startService('scheduling', env);
    const payment = await startService('payment', { ...env, PAYMENT_PROVIDER_LATENCY_MS: '0', OUTBOX_POLL_INTERVAL_MS: '1000' });
    const gatewaySetup = gatewayBenchEnv(scheduling.url);
    const gateway = await startService('api-gateway', { ...env, ...gatewaySetup.env });
    const services = [scheduling, payment, gateway];
    fixKafkajsIdleTimer();
    const kafka = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: `${env.KAFKA_NAMESPACE}-bench`, logLevel: logLevel.NOTHING });
    const schedulingOptions: SchedulingBenchOptions = {
      service: scheduling,
      startInstance: (extra) => startService('scheduling', { ...env, ...extra }),
      databaseUrl,
      quick,
      artifact,
      pause: (work) => paused(services.map((s) => s.process), work),
      drain: () => drain(kafka, env.KAFKA_NAMESPACE, databaseUrl),
    };
    try {
      // The gateway's booking ratios use scheduling's pgbench anchors, so `--only gateway` runs both.
      const scheduled = runs('scheduling') || runs('gateway') ? await benchScheduling(schedulingOptions) : undefined;
      if (scheduled) rows.push(...scheduled.rows);
      if (runs('gateway')) {
        rows.push(...(await benchGateway({ gateway, token: gatewaySetup.token, quick, anchors: scheduled?.anchors, drain: schedulingOptions.drain, scheduling })));
      }
      if (runs('saga')) {
        // The capacity is read against the uncontended anchor; `--only saga` measures that here.
        const anchor = scheduled?.anchors.uncontended ?? (await measureBookingAnchor(schedulingOptions, 'uncontended', await prepareBooking(schedulingOptions)));
        rows.push(
          ...(await benchSaga({
            scheduling,
            brokers: env.KAFKA_BROKERS.split(','),
            namespace: env.KAFKA_NAMESPACE,
            databaseUrl,
            quick,
            pgbenchBookingsPerSec: anchor.winnersPerSec,
            processes: [
              { name: 'scheduling', pid: scheduling.process.pid },
              { name: 'payment', pid: payment.process.pid },
              // scripts/bench.sh names the broker it started; an external one (KAFKA_BROKERS) is not measured.
              { name: 'broker', pid: Number(process.env.BENCH_KAFKA_PID) || undefined },
            ],
          })),
        );
      }
      for (const service of services) {
        const rss = Math.round(service.peakRssMb());
        rows.push({ section: 'memory', name: `${service.name} peak RSS (VmHWM) over the run`, value: rss, unit: 'MB', target: '≤ 150 MB', pass: rss <= 150 });
      }
    } finally {
      await Promise.all(services.map((s) => s.stop()));
    }
  }

  if (runs('reminder')) {
    const reminders = await runReminderBench({ quick, databaseUrl: process.env.DATABASE_URL });
    for (const t of reminders.throughput) {
      // The anchor is whichever raw claim was the faster at this worker count.
      const twoFaster = t.rawTwoStepPerSec > t.rawPerSec;
      const anchor = Math.max(t.rawPerSec, t.rawTwoStepPerSec);
      rows.push({
        section: 'reminder',
        name: `dispatch with ${t.workers} worker(s), ${reminders.rows} due reminders`,
        value: Math.round(t.dispatchPerSec),
        unit: 'reminders/s',
        anchorName: `the faster raw SKIP LOCKED claim on the same table (here the ${twoFaster ? 'two-statement' : 'single-statement'} one)`,
        anchorValue: Math.round(anchor),
        ratio: Math.round((t.dispatchPerSec / anchor) * 100) / 100,
        target: '≥ 0.5',
        pass: t.dispatchPerSec / anchor >= 0.5,
        note: `single-statement claim ${Math.round(t.rawPerSec)}/s (ratio ${t.ratio.toFixed(2)}), two-statement claim ${Math.round(t.rawTwoStepPerSec)}/s (ratio ${t.ratioTwoStep.toFixed(2)})`,
      });
    }
    for (const l of reminders.lateness) {
      rows.push({
        section: 'reminder',
        name: `firing lateness p99, ${l.workers} worker(s), ${l.reminders} reminders`,
        value: l.p99Ms,
        unit: 'ms',
        target: '≤ 2000 ms',
        pass: l.p99Ms <= 2000,
        note: `p50 ${l.p50Ms} ms, max ${l.maxMs} ms, poll ${reminders.pollIntervalMs} ms`,
      });
    }
  }

  if (runs('growth')) {
    rows.push(
      ...(await benchGrowth({
        baseDatabaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/booking',
        brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
        quick,
      })),
    );
  }

  if (runs('overload')) {
    rows.push(...(await benchOverload({ baseDatabaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/booking', brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092', quick })));
  }

  if (runs('observability')) {
    const baseDatabaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/booking';
    rows.push(...(await benchObservability({ baseDatabaseUrl, brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092', quick })));
  }

  const report = {
    startedAt: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    quick,
    arguments: process.argv.slice(2),
    ...(await provenance()),
    files: artifacts.map((f) => (only ? f : path.relative(ROOT, f))),
    rows,
  };
  const markdown = toMarkdown(report);
  // Only complete runs are recorded; `--only` runs just print their table.
  if (!only) {
    writeFileSync(path.join(resultsDir, `${stamp}.json`), JSON.stringify(report, null, 2));
    writeFileSync(path.join(resultsDir, `${stamp}.md`), markdown);
    writeFileSync(path.join(resultsDir, 'latest.md'), markdown);
  }
  process.stdout.write(`\n${markdown}\n`);
  const failed = rows.filter((r) => r.pass === false);
  if (failed.length) process.stdout.write(`${failed.length} target(s) missed (see the table); correctness checks passed.\n`);
}

/** Variables the bench itself reads; the services it starts also get every variable of its environment. */
const BENCH_VARIABLES = ['DATABASE_URL', 'KAFKA_BROKERS', 'BENCH_SAGA_RATE', 'BENCH_SAGA_SECONDS', 'BENCH_SAGA_STAGES', 'BENCH_GROWTH_APPOINTMENTS', 'BENCH_GROWTH_KEEP', 'BENCH_GROWTH_REUSE', 'BENCH_KAFKA_PID', 'NODE_OPTIONS'];
const SECRET = /SECRET|PASSWORD|TOKEN|PRIVATE|_KEY$/;

/**
 * What a result needs to be reproduced, read by the run itself: the commit (and the tracked files that
 * differed from it), the variables the bench and its services read that were set (secrets masked, and
 * passwords in URLs), the machine, Postgres and pgbench.
 */
async function provenance() {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return undefined;
    }
  };
  const changed = git('status', '--porcelain', '--untracked-files=no');
  const known = new Set([
    ...BENCH_VARIABLES,
    ...Object.keys(baseConfigShape),
    ...Object.keys(schedulingConfigShape),
    ...Object.keys(paymentConfigShape),
    ...Object.keys(gatewayConfigShape),
  ]);
  const environment = Object.fromEntries(
    [...known]
      .sort()
      .filter((name) => process.env[name] !== undefined)
      .map((name) => [name, SECRET.test(name) ? '(set, not recorded)' : maskPassword(process.env[name]!)]),
  );
  const postgres = await withPg(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/booking', async (c) => {
    const { rows } = await c.query(
      `SELECT name, setting, unit FROM pg_settings
        WHERE name IN ('server_version', 'autovacuum', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_connections', 'deadlock_timeout') ORDER BY name`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} × ${r.unit}` : r.setting]));
  });
  const cpus = os.cpus();
  return {
    commit: git('rev-parse', 'HEAD') ?? 'unknown',
    ...(changed ? { uncommittedChanges: changed.split('\n') } : {}),
    environment,
    machine: {
      cpuModel: cpus[0]?.model,
      cpus: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      kernel: `${os.type()} ${os.release()}`,
      node: process.version,
      postgres,
      pgbench: execFileSync('pgbench', ['--version'], { encoding: 'utf8' }).trim(),
    },
  };
}

function maskPassword(value: string): string {
  try {
    const url = new URL(value);
    if (!url.password) return value;
    url.password = '***';
    return url.toString();
  } catch {
    return value;
  }
}

function toMarkdown(report: {
  startedAt: string;
  seconds: number;
  quick: boolean;
  commit: string;
  uncommittedChanges?: string[];
  environment: object;
  machine: object;
  files: string[];
  rows: BenchRow[];
}): string {
  const lines = [
    `# Benchmark ${report.startedAt}${report.quick ? ' (quick)' : ''} — ${report.seconds} s`,
    '',
    `- commit: ${report.commit}${report.uncommittedChanges ? ` with uncommitted changes to ${report.uncommittedChanges.length} tracked file(s)` : ''}`,
    `- environment: \`${JSON.stringify(report.environment)}\``,
    `- machine: \`${JSON.stringify(report.machine)}\``,
    `- files of this run: ${report.files.map((f) => `\`${f}\``).join(', ') || 'none'}`,
    '',
    '| section | figure | value | anchor (same run) | ratio | target | ok | note |',
    '|---|---|---:|---|---:|---|---|---|',
  ];
  for (const r of report.rows) {
    lines.push(
      `| ${r.section} | ${r.name} | ${r.value} ${r.unit} | ${r.anchorName ? `${r.anchorName}: ${r.anchorValue}` : ''} | ${r.ratio ?? ''} | ${r.target ?? ''} | ${r.pass === undefined ? '' : r.pass ? 'yes' : 'NO'} | ${r.note ?? ''} |`,
    );
  }
  return lines.join('\n');
}

main().catch((error) => {
  process.stderr.write(`benchmark failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
