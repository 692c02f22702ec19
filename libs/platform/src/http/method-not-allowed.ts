import type { FastifyInstance } from 'fastify';

/**
 * The methods each route path answers, collected as routes are registered, so that a request whose
 * path exists under another method is answered 405 with `Allow` (RFC 9110 §15.5.6) instead of 404.
 */
export class RouteMethods {
  private readonly routes: { pattern: RegExp; methods: Set<string> }[] = [];

  /** Installs the collecting hook: before any route is registered (Nest registers them at init). */
  static install(fastify: FastifyInstance): RouteMethods {
    const table = new RouteMethods();
    fastify.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) table.add(String(method), route.url ?? route.path);
    });
    return table;
  }

  add(method: string, path: string): void {
    const source = path
      .replace(/\/+$/, '')
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    const pattern = new RegExp(`^${source}/?$`);
    const known = this.routes.find((r) => r.pattern.source === pattern.source);
    if (known) known.methods.add(method.toUpperCase());
    else this.routes.push({ pattern, methods: new Set([method.toUpperCase()]) });
  }

  /** The methods `url`'s path answers (sorted), or [] when no route has the path. */
  allowed(url: string): string[] {
    const path = url.split('?')[0];
    const methods = new Set<string>();
    for (const route of this.routes) if (route.pattern.test(path)) for (const m of route.methods) methods.add(m);
    return [...methods].sort();
  }
}
