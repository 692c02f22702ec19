import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const RULES_DIR = join(ROOT, 'infra', 'observability', 'prometheus');

function promtool(...args: string[]) {
  try {
    execFileSync('sh', ['-c', 'command -v promtool'], { stdio: 'ignore' });
  } catch {
    throw new Error('promtool is not installed: scripts/test.sh installs it (apt-get install prometheus)');
  }
  const run = spawnSync('promtool', args, { cwd: RULES_DIR, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const alertNames = () => [...readFileSync(join(RULES_DIR, 'alerts.yml'), 'utf8').matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]);

/** The alert rules with Prometheus's own tools: valid, and each alert's unit tests pass. */
describe('Prometheus alert rules (promtool)', () => {
  it('are valid rules', () => {
    const { status, output } = promtool('check', 'rules', 'alerts.yml');
    expect(output).toContain(`SUCCESS: ${alertNames().length} rules found`);
    expect(status).toBe(0);
  });

  it('pass their unit tests', () => {
    const { status, output } = promtool('test', 'rules', 'alerts.test.yml');
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  it('show every alert firing and staying silent, and every alert has a runbook entry', () => {
    const tests = readFileSync(join(RULES_DIR, 'alerts.test.yml'), 'utf8');
    const runbook = readFileSync(join(ROOT, 'docs', 'runbook.md'), 'utf8');
    const cases = [...tests.matchAll(/alertname: (\w+)\n\s+exp_alerts:( \[\])?/g)].map((m) => ({ alert: m[1], silent: m[2] !== undefined }));
    for (const alert of alertNames()) {
      expect({ alert, fires: cases.some((c) => c.alert === alert && !c.silent) }).toEqual({ alert, fires: true });
      expect({ alert, silent: cases.some((c) => c.alert === alert && c.silent) }).toEqual({ alert, silent: true });
      expect({ alert, runbook: runbook.includes(`## ${alert}`) }).toEqual({ alert, runbook: true });
    }
  });

  it('fail their unit tests when an alert is broken (the tests can fail)', () => {
    // The same tests against rules whose outbox threshold is off by a factor of ten must fail.
    const broken = readFileSync(join(RULES_DIR, 'alerts.yml'), 'utf8').replace('outbox_oldest_row_age_seconds) > 30', 'outbox_oldest_row_age_seconds) > 300');
    const dir = mkdtempSync(join(tmpdir(), 'booking-alerts-'));
    try {
      writeFileSync(join(dir, 'alerts.yml'), broken);
      copyFileSync(join(RULES_DIR, 'alerts.test.yml'), join(dir, 'alerts.test.yml'));
      const run = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: dir, encoding: 'utf8' });
      expect(run.status).not.toBe(0);
      expect(`${run.stdout}${run.stderr}`).toContain('OutboxRowStuck');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
