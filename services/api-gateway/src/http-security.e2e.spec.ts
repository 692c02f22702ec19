import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { TestEnvironment } from '@booking/platform/testing';
import { loadApiGatewayConfig } from './config';
import { createGatewayApp } from './gateway-app';
import { HttpTestClient } from './testing/gateway-stack';

const ALLOWED = 'https://app.example.com';

/** Parses a Content-Security-Policy header into its directives. */
function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...sources]) => [name.toLowerCase(), sources]),
  );
}

/**
 * Security headers and CORS on the real gateway app (Postgres, Kafka), and the /docs page under them:
 * every script, stylesheet and image the page loads must be allowed by the policy and served.
 */
describe('gateway HTTP security (e2e)', () => {
  const env = new TestEnvironment();
  const apps: INestApplication[] = [];
  const clients: HttpTestClient[] = [];
  let closed: HttpTestClient;
  let open: HttpTestClient;

  async function start(extra: Record<string, string>): Promise<HttpTestClient> {
    const config = loadApiGatewayConfig(
      env.env({ SCHEDULING_URL: 'http://127.0.0.1:9', SCHEDULING_CHANGE_FEED: 'false', JWT_SECRET: randomBytes(32).toString('hex'), JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', RATE_LIMIT_KEY_PREFIX: `rl:${env.id}`, ...extra }),
    );
    const app = await createGatewayApp(config);
    await app.listen(0, '127.0.0.1');
    apps.push(app);
    const client = new HttpTestClient(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`);
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    closed = await start({});
    open = await start({ CORS_ALLOWED_ORIGINS: `${ALLOWED}, http://localhost:5173` });
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    for (const app of apps) await app.close();
    await env.destroy();
  });

  it('sends security headers on API answers, errors included', async () => {
    for (const res of [await closed.request('GET', '/v1/appointments'), await closed.request('GET', '/health/live')]) {
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'referrer-policy': 'no-referrer',
        'cross-origin-resource-policy': 'same-origin',
      });
      const csp = directives(String(res.headers['content-security-policy']));
      expect(csp.get('default-src')).toEqual(["'self'"]);
      expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
      expect(csp.get('object-src')).toEqual(["'none'"]);
    }
    expect((await closed.request('GET', '/v1/appointments')).status).toBe(401);
  });

  it('sends no CORS headers by default, whatever the origin', async () => {
    const preflight = await closed.request('OPTIONS', '/v1/appointments', {
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const get = await closed.request('GET', '/v1/appointments', { headers: { origin: ALLOWED } });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers preflights and requests of a configured origin only, before authentication', async () => {
    const preflight = await open.request('OPTIONS', '/v1/appointments', {
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(String(preflight.headers['access-control-allow-headers'])).toContain('idempotency-key');
    expect(String(preflight.headers['access-control-allow-methods'])).toContain('POST');

    const get = await open.request('GET', '/v1/appointments', { headers: { origin: 'http://localhost:5173' } });
    expect(get.status).toBe(401);
    expect(get.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(String(get.headers['access-control-expose-headers'])).toContain('x-correlation-id');

    const other = await open.request('GET', '/v1/appointments', { headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses CORS origins that are not plain origins', () => {
    for (const bad of ['*', 'https://app.example.com/path', 'app.example.com']) {
      expect(() => loadApiGatewayConfig(env.env({ CORS_ALLOWED_ORIGINS: bad }))).toThrow(/CORS_ALLOWED_ORIGINS=.* is invalid/);
    }
  });

  it('serves /docs with every script, stylesheet and image its policy allows', async () => {
    const page = await closed.request('GET', '/docs');
    expect(page.status).toBe(200);
    const csp = directives(String(page.headers['content-security-policy']));
    const allowed = (kind: 'script-src' | 'style-src' | 'img-src') => csp.get(kind) ?? csp.get('default-src') ?? [];
    expect(allowed('script-src')).not.toContain("'unsafe-inline'");

    // Inline scripts would be blocked (script-src has no 'unsafe-inline'): Swagger UI must use files.
    const inlineScripts = [...page.text.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)].filter((m) => m[1].trim());
    expect(inlineScripts).toEqual([]);
    if (/<style[\s>]/i.test(page.text) || /\sstyle="/i.test(page.text)) expect(allowed('style-src')).toContain("'unsafe-inline'");

    const assets = [
      ...[...page.text.matchAll(/<script[^>]*\bsrc="([^"]+)"/gi)].map((m) => ({ kind: 'script-src' as const, url: m[1] })),
      ...[...page.text.matchAll(/<link[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"/gi)].map((m) => ({ kind: 'style-src' as const, url: m[1] })),
      ...[...page.text.matchAll(/<link[^>]*\bhref="([^"]+)"[^>]*\brel="stylesheet"/gi)].map((m) => ({ kind: 'style-src' as const, url: m[1] })),
      ...[...page.text.matchAll(/<(?:img|link)[^>]*\b(?:src|href)="([^"]+\.png)"/gi)].map((m) => ({ kind: 'img-src' as const, url: m[1] })),
    ];
    expect(assets.filter((a) => a.kind === 'script-src').length).toBeGreaterThanOrEqual(2);
    expect(assets.filter((a) => a.kind === 'style-src').length).toBeGreaterThanOrEqual(1);
    // Relative to the page's own URL, as a browser resolves them.
    const base = new URL('/docs', closed.url);
    for (const asset of assets) {
      const url = new URL(asset.url, base);
      // Same origin, so 'self' covers it.
      expect({ asset: asset.url, origin: url.origin }).toEqual({ asset: asset.url, origin: base.origin });
      expect(allowed(asset.kind)).toContain("'self'");
      const res = await closed.request('GET', url.pathname + url.search);
      expect({ asset: asset.url, status: res.status }).toEqual({ asset: asset.url, status: 200 });
      if (asset.kind === 'script-src') expect(res.headers['content-type']).toMatch(/javascript/);
      if (asset.kind === 'style-src') expect(res.headers['content-type']).toMatch(/text\/css/);
    }
    // Swagger UI fetches the OpenAPI document from the same origin (connect-src 'self').
    expect(csp.get('connect-src')).toContain("'self'");
    const init = await closed.request('GET', '/docs/swagger-ui-init.js');
    expect(init.text).toContain('/v1/appointments');
  });
});
