import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';

/**
 * A small HTTP front for tests that run several instances of a service: it stands where a real load
 * balancer (a Kubernetes Service with readiness, an ingress, an ELB) stands in production, and does what
 * they do and no more: it sends each request to one of the instances that currently answer their
 * readiness probe (round robin, probed every `probeMs`), and a request that could not be delivered
 * (connection refused, or reset before an answer) goes to another instance: a reset may come after the
 * instance received it, which the platform's idempotency keys make safe to resend. It never retries a request
 * that was answered, whatever the status.
 */
export type Front = {
  url: string;
  /** How many requests each upstream answered, and how many could not be delivered to it. */
  stats: () => Record<string, { answered: number; undelivered: number }>;
  close: () => Promise<void>;
};

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'host', 'content-length']);

export async function startFront(upstreams: string[], options: { probeMs?: number } = {}): Promise<Front> {
  const probeMs = options.probeMs ?? 100;
  const ready = new Map<string, boolean>(upstreams.map((u) => [u, false]));
  const stats: Record<string, { answered: number; undelivered: number }> = Object.fromEntries(upstreams.map((u) => [u, { answered: 0, undelivered: 0 }]));
  const agent = new Agent({ connections: 64, keepAliveTimeout: 1000 });
  let closed = false;
  let next = 0;

  const probe = async (upstream: string) => {
    try {
      const response = await request(`${upstream}/health/ready`, { dispatcher: agent, headersTimeout: 500, bodyTimeout: 500 });
      await response.body.dump();
      ready.set(upstream, response.statusCode === 200);
    } catch {
      ready.set(upstream, false);
    }
  };
  const probing = (async () => {
    while (!closed) {
      await Promise.all(upstreams.map(probe));
      await new Promise((resolve) => setTimeout(resolve, probeMs));
    }
  })();
  await Promise.all(upstreams.map(probe));

  const pick = (tried: Set<string>): string | undefined => {
    const candidates = upstreams.filter((u) => ready.get(u) && !tried.has(u));
    if (candidates.length === 0) return undefined;
    return candidates[next++ % candidates.length];
  };

  const server: Server = createServer((req, res) => {
    forward(req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'FRONT_FAILED', detail: String(error) }));
    });
  });
  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
    const tried = new Set<string>();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const upstream = pick(tried);
      if (!upstream) {
        // Every instance is out of rotation for the moment: wait for one, as a balancer queues briefly.
        tried.clear();
        await new Promise((resolve) => setTimeout(resolve, probeMs));
        continue;
      }
      tried.add(upstream);
      try {
        const answer = await request(`${upstream}${req.url}`, {
          method: req.method as 'GET',
          headers: headers as Record<string, string>,
          body: body.length ? body : undefined,
          dispatcher: agent,
          headersTimeout: 60_000,
          bodyTimeout: 60_000,
        });
        const payload = Buffer.from(await answer.body.arrayBuffer());
        stats[upstream].answered++;
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
        res.writeHead(answer.statusCode, out);
        res.end(payload);
        return;
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        stats[upstream].undelivered++;
        ready.set(upstream, false);
        // Only a request that never reached the instance may go elsewhere.
        if (!/ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET|EPIPE/.test(code)) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'FRONT_UPSTREAM_FAILED', detail: String(error) }));
          return;
        }
      }
    }
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(JSON.stringify({ code: 'FRONT_NO_UPSTREAM', detail: 'no instance ready within 10 s' }));
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats: () => stats,
    close: async () => {
      closed = true;
      await probing;
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await serverClosed;
      await agent.destroy();
    },
  };
}
