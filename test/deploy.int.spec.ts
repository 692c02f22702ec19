import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { TestEnvironment } from '@booking/platform/testing';

const ROOT = path.join(__dirname, '..');
const run = promisify(execFile);
const SERVICES = { 'api-gateway': 'gateway', scheduling: 'scheduling', payment: 'payment', notification: 'notification', reminder: 'reminder' } as const;

/**
 * The deployable artefacts, checked with the real tools: docker-compose 1.29 validates
 * docker-compose.yml (no engine needed), `kubectl kustomize` renders every overlay and every object
 * is validated against the Kubernetes API schemas (tools/validate-k8s.mjs, kubernetes-models), and
 * the image's entrypoint runs a service's `migrate` command.
 */
describe('deployment: Dockerfile, Compose, Kubernetes', () => {
  describe('docker-compose.yml', () => {
    // Every secret is required: Compose ships none.
    const secrets: Record<string, string> = { POSTGRES_PASSWORD: 'p', JWT_SECRET: 'j', TWILIO_AUTH_TOKEN: 't', PUSH_SIGNING_SECRET: 's' };
    for (const schema of Object.values(SERVICES)) {
      secrets[`${schema.toUpperCase()}_OWNER_PASSWORD`] = `${schema}-o`;
      secrets[`${schema.toUpperCase()}_APP_PASSWORD`] = `${schema}-a`;
    }
    const compose = (env: Record<string, string>, ...args: string[]) =>
      spawnSync('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), '--project-directory', ROOT, ...args], {
        env: { PATH: process.env.PATH, ...env },
        encoding: 'utf8',
      });

    it('is valid for docker-compose 1.29, and refuses to run without its secrets', () => {
      const version = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8' });
      expect(version.status).toBe(0);
      expect(version.stdout.trim()).toMatch(/^1\.29\./);
      const valid = compose(secrets, 'config', '-q');
      expect(valid.stderr).toBe('');
      expect(valid.status).toBe(0);
      const { JWT_SECRET: _jwt, ...withoutJwt } = secrets;
      const refused = compose(withoutJwt, 'config', '-q');
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain('JWT_SECRET');
    });

    it('builds every service from the one Dockerfile, migrates it as its owner role first and runs it as its app role', () => {
      const resolved = compose(secrets, 'config');
      expect(resolved.status).toBe(0);
      const services = parse(resolved.stdout).services;
      for (const [service, schema] of Object.entries(SERVICES)) {
        const app = services[service];
        const migrate = services[`${service}-migrate`];
        for (const s of [app, migrate]) {
          expect(s.build.args).toEqual({ SERVICE: service });
          expect(s.build.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
        }
        expect(migrate.command).toEqual(['migrate']);
        expect(migrate.environment.DATABASE_URL).toBe(`postgres://${schema}_owner:${schema}-o@postgres:5432/booking`);
        expect(migrate.depends_on['postgres-roles'].condition).toBe('service_completed_successfully');
        expect(app.environment.DATABASE_URL).toBe(`postgres://${schema}_app:${schema}-a@postgres:5432/booking`);
        expect(app.environment.MIGRATE_ON_START).toBe('false');
        expect(app.depends_on[`${service}-migrate`].condition).toBe('service_completed_successfully');
        expect(app.healthcheck.test).toEqual(['CMD', 'node', '/app/healthcheck.js', '/health/ready']);
      }
    });
  });

  describe('the Dockerfile', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

    it('is the only one: a build argument picks the service, on Node 26 (the active LTS), as a non-root user with a HEALTHCHECK', () => {
      for (const service of Object.keys(SERVICES)) expect(existsSync(path.join(ROOT, 'services', service, 'Dockerfile'))).toBe(false);
      expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:26-bookworm-slim$/m);
      const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
      expect(runtime).toMatch(/^ARG SERVICE$/m);
      expect(runtime).toMatch(/^USER node$/m);
      expect(runtime).toMatch(/^HEALTHCHECK .*\n\s+CMD \["node", "\/app\/healthcheck.js", "\/health\/live"\]$/m);
      expect(runtime).toMatch(/^ENTRYPOINT \["\/app\/entrypoint.sh"\]$/m);
    });

    it("runs a service's migrate command through the image's entrypoint", async () => {
      const env = new TestEnvironment();
      try {
        const { stdout } = await run('sh', [path.join(ROOT, 'infra', 'docker', 'entrypoint.sh'), 'migrate'], {
          env: { ...process.env, APP_DIR: ROOT, SERVICE: 'reminder', DATABASE_URL: env.databaseUrl, LOG_LEVEL: 'info' },
        });
        expect(stdout).toContain('"msg":"migrations applied"');
        expect(stdout).toContain('0001_reminders');
      } finally {
        await env.destroy();
      }
    });
  });

  describe('Kubernetes manifests', () => {
    const validate = (yaml: string) =>
      spawnSync(process.execPath, [path.join(ROOT, 'tools', 'validate-k8s.mjs')], { input: yaml, encoding: 'utf8', cwd: ROOT });

    it('the validator refuses what the Kubernetes schemas refuse', () => {
      const bad = validate(
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    spec:\n      containers: [{name: c, image: i, ports: [{containerPort: http}]}]\n' +
          '---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: y}\nspec: {minAvailable: [1]}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: z}\n',
      );
      expect(bad.status).toBe(1);
      const results = bad.stdout.trim().split('\n').map((line) => JSON.parse(line));
      expect(results).toHaveLength(3);
      expect(results[0].errors.join(' ')).toContain('containerPort must be integer');
      expect(results[1].errors.length).toBeGreaterThan(0);
      expect(results[2].errors).toEqual(['no schema for example.com/v1 Widget']);
    });

    for (const overlay of ['development', 'production']) {
      it(`${overlay}: renders with kubectl kustomize and every object is valid`, async () => {
        const { stdout: rendered } = await run('kubectl', ['kustomize', path.join(ROOT, 'infra', 'k8s', 'overlays', overlay)], { maxBuffer: 16 * 1024 * 1024 });
        const result = validate(rendered);
        const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
        expect(lines.filter((l) => l.errors.length)).toEqual([]);
        expect(result.status).toBe(0);

        const objects = parseAllDocuments(rendered).map((d) => d.toJS());
        const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
        expect(find('Job', 'postgres-roles')).toBeDefined();
        for (const [service, schema] of Object.entries(SERVICES)) {
          const deployment = find('Deployment', service);
          const container = deployment.spec.template.spec.containers[0];
          expect(container.startupProbe.httpGet.path).toBe('/health/started');
          expect(container.livenessProbe.httpGet.path).toBe('/health/live');
          expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
          expect(container.lifecycle.preStop.exec.command).toEqual(['sleep', '5']);
          expect(container.resources.requests).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
          expect(container.resources.limits.memory).toBeDefined();
          expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
          expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
          expect(container.envFrom[0].configMapRef.name).toMatch(/^booking-config-/);
          expect(container.env.find((e: { name: string }) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef).toEqual({ name: `booking-${schema}-db`, key: 'url' });
          expect(find('PodDisruptionBudget', service)).toBeDefined();
          expect(find('HorizontalPodAutoscaler', service).spec.scaleTargetRef.name).toBe(service);
          const job = find('Job', `${service}-migrate`);
          expect(job.spec.template.spec.containers[0].args).toEqual(['migrate']);
          expect(job.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef).toEqual({ name: `booking-${schema}-db`, key: 'migration-url' });
        }
        const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('booking-config-'));
        expect(config.data.MIGRATE_ON_START).toBe('false');
        if (overlay === 'production') expect(config.data.DATABASE_SSLMODE).toBe('verify-full');
      });
    }
  });
});
