// A small HTTP load balancer for the drills (what nginx/HAProxy/a cloud LB does in production):
// round robin over the market-api instances, with active health checks (GET /health/live every
// 500 ms) and passive ones. A request is sent to another instance only when the first one could
// not be connected to (the request never reached it); a connection that breaks after the
// request was sent is answered 502, and the client retries with the same Idempotency-Key.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';

export interface Upstream {
  name: string;
  port: number;
  up: boolean;
}

export class LoadBalancer {
  private server: Server | null = null;
  private timer: NodeJS.Timeout | null = null;
  private next = 0;
  readonly stats = { requests: 0, rerouted: 0, badGateway: 0 };

  constructor(
    readonly port: number,
    readonly upstreams: Upstream[],
  ) {}

  private pick(exclude: Set<Upstream>): Upstream | undefined {
    const n = this.upstreams.length;
    for (let i = 0; i < n; i++) {
      const u = this.upstreams[(this.next + i) % n];
      if (u.up && !exclude.has(u)) {
        this.next = (this.next + i + 1) % n;
        return u;
      }
    }
    return this.upstreams.find((u) => !exclude.has(u));
  }

  private forward(req: IncomingMessage, body: Buffer, u: Upstream) {
    return new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>(
      (resolve, reject) => {
        const r = request(
          {
            host: '127.0.0.1',
            port: u.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '' },
            timeout: 30_000,
            // a fresh connection per request: 'connect' then tells whether it reached the instance
            agent: false,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 502,
                headers: res.headers,
                body: Buffer.concat(chunks),
              }),
            );
            res.on('error', (e) => reject(Object.assign(e, { sent: true })));
          },
        );
        let sent = false;
        r.on('socket', (s) => s.on('connect', () => (sent = true)));
        r.on('timeout', () => r.destroy(new Error('upstream timeout')));
        r.on('error', (e) => reject(Object.assign(e, { sent })));
        r.end(body);
      },
    );
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          this.stats.requests++;
          const body = Buffer.concat(chunks);
          const tried = new Set<Upstream>();
          for (;;) {
            const u = this.pick(tried);
            if (!u) break;
            tried.add(u);
            try {
              const out = await this.forward(req, body, u);
              const headers = { ...out.headers };
              delete headers['transfer-encoding'];
              delete headers.connection;
              res.writeHead(out.status, { ...headers, 'x-upstream': u.name });
              res.end(out.body);
              return;
            } catch (e) {
              u.up = false;
              if ((e as { sent?: boolean }).sent) break; // it may have reached the instance
              this.stats.rerouted++;
            }
          }
          this.stats.badGateway++;
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ error: { code: 'bad_gateway', message: 'no instance answered' } }),
          );
        })();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.timer = setInterval(() => void this.check(), 500);
  }

  private async check(): Promise<void> {
    await Promise.all(
      this.upstreams.map(async (u) => {
        try {
          const r = await fetch(`http://127.0.0.1:${u.port}/health/live`, {
            signal: AbortSignal.timeout(1000),
          });
          await r.arrayBuffer();
          u.up = r.ok;
        } catch {
          u.up = false;
        }
      }),
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
