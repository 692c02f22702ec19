import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchGateway, gatewayBenchEnv } from './gateway.bench';
import { runReminderBench } from './reminder.bench';
import { benchSaga } from './saga.bench';
import { benchScheduling } from './scheduling.bench';
import { runSlotEngineBench } from './slot-engine.bench';
import { BenchRow, freshDatabase, ROOT, startService } from './lib';

/**
 * `npm run bench`: measures the platform against anchors taken in the same run on the same machine,
 * prints one table, and writes it as JSON and Markdown under bench/results/. `--quick` keeps it short.
 * Loads are bounded and stay on loopback.
 */
async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  // `--only saga,reminder` runs just those sections (slot-engine, scheduling, gateway, saga, reminder).
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg >= 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',').filter(Boolean)) : undefined;
  const runs = (section: string) => !only || only.has(section);
  const resultsDir = path.join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const started = Date.now();
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
    };
    const scheduling = await startService('scheduling', env);
    const payment = await startService('payment', { ...env, PAYMENT_PROVIDER_LATENCY_MS: '0', OUTBOX_POLL_INTERVAL_MS: '1000' });
    const gatewaySetup = gatewayBenchEnv(scheduling.url);
    const gateway = await startService('api-gateway', { ...env, ...gatewaySetup.env });
    const services = [scheduling, payment, gateway];
    try {
      // The gateway's booking ratio uses scheduling's pgbench anchor, so `--only gateway` runs both.
      const schedulingRows = runs('scheduling') || runs('gateway') ? await benchScheduling({ service: scheduling, startUncached: () => startService('scheduling', { ...env, SLOT_CACHE_MAX_BYTES: '0' }), databaseUrl, quick, resultsDir }) : [];
      rows.push(...schedulingRows);
      const rawPostgresTps = schedulingRows.find((r) => r.anchorName?.startsWith('pgbench'))?.anchorValue;
      if (runs('gateway')) rows.push(...(await benchGateway({ gateway, token: gatewaySetup.token, quick, rawPostgresTps, scheduling })));
      if (runs('saga')) rows.push(...(await benchSaga({ scheduling, brokers: env.KAFKA_BROKERS.split(','), namespace: env.KAFKA_NAMESPACE, databaseUrl, quick })));
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
      rows.push({
        section: 'reminder',
        name: `dispatch with ${t.workers} worker(s), ${reminders.rows} due reminders`,
        value: Math.round(t.dispatchPerSec),
        unit: 'reminders/s',
        anchorName: 'raw SKIP LOCKED claim, same table',
        anchorValue: Math.round(t.rawPerSec),
        ratio: Math.round(t.ratio * 100) / 100,
        target: '≥ 0.5',
        pass: t.ratio >= 0.5,
        note: `vs two-statement claim ${Math.round(t.rawTwoStepPerSec)}/s: ${t.ratioTwoStep.toFixed(2)}`,
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

  const seconds = Math.round((Date.now() - started) / 1000);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const report = { startedAt: new Date(started).toISOString(), seconds, quick, machine: machine(), rows };
  const markdown = toMarkdown(rows, report);
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

function machine() {
  const os = require('node:os') as typeof import('node:os');
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
}

function toMarkdown(rows: BenchRow[], report: { startedAt: string; seconds: number; quick: boolean; machine: object }): string {
  const lines = [
    `# Benchmark ${report.startedAt}${report.quick ? ' (quick)' : ''} — ${report.seconds} s — ${JSON.stringify(report.machine)}`,
    '',
    '| section | figure | value | anchor (same run) | ratio | target | ok | note |',
    '|---|---|---:|---|---:|---|---|---|',
  ];
  for (const r of rows) {
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
