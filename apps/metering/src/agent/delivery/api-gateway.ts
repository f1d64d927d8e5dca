// The API form's delivery (docs/delivery.md, "API gateway"): an HTTP reverse proxy the agent
// runs in front of the seller's service. Per-lease bearer tokens (hashes only), concurrency
// limited by the lease's slots, `api_calls` and bytes counted into the signed usage stream;
// suspension and revoke refuse the token at once and cut its requests in flight.
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { join } from 'node:path';
import { listen } from './host.js';
import {
  checkLeaseId,
  probeResult,
  type Access,
  type HostLease,
  type LeaseGrant,
  type ProbeResult,
  type Provisioner,
} from './provisioner.js';
import { TokenStore, type TokenRecord } from './token-store.js';
import { UsageMeter } from './usage-meter.js';

export interface ApiGatewayOptions {
  /** The seller's service, e.g. `http://127.0.0.1:8080/v1` (its path is prefixed to the buyer's). */
  upstream: string;
  /** Where the gateway listens (default 127.0.0.1, port 0 = any free one). */
  host?: string;
  port?: number;
  /** The endpoint told to buyers (default `http://<host>:<port>`). */
  publicUrl?: string;
  /** Tokens (`gateway-tokens.json`) and unsampled counts (`gateway-usage.json`); none: memory. */
  stateDir?: string;
  /** An upstream that sends no response head within this is a 504 (default 60 s). */
  upstreamTimeoutMs?: number;
}

// RFC 9110 §7.6.1 connection-specific fields, never forwarded
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function forwardHeaders(h: IncomingHttpHeaders, drop: Set<string>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = String(h.connection ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase());
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k) || drop.has(k) || listed.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

const REQUEST_DROP = new Set(['authorization', 'host', 'x-suanli-lease-id']);
const NONE = new Set<string>();

function refuse(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

export class ApiGateway implements Provisioner {
  readonly name = 'api-gateway';
  readonly forms = ['API'] as const;
  readonly tokens: TokenStore;
  /** The usage of the gateway's leases, as the agent's collector for them. */
  readonly meter: UsageMeter;
  private readonly upstream: URL;
  private readonly agent = new Agent({ keepAlive: true, maxFreeSockets: 256 });
  private readonly inFlight = new Map<string, Set<() => void>>();
  private server: Server | undefined;
  private url: string | undefined;

  constructor(private readonly options: ApiGatewayOptions) {
    this.upstream = new URL(options.upstream);
    if (this.upstream.protocol !== 'http:') throw new Error('upstream must be an http:// URL');
    const dir = options.stateDir;
    this.tokens = new TokenStore(dir === undefined ? undefined : join(dir, 'gateway-tokens.json'));
    this.meter = new UsageMeter(dir === undefined ? undefined : join(dir, 'gateway-usage.json'));
  }

  /** Loads tokens and counts, then listens; resolves with the gateway's base URL. */
  async start(): Promise<string> {
    await this.tokens.load();
    await this.meter.load();
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 65_000;
    this.url = await listen(server, this.options);
    this.server = server;
    return this.url;
  }

  get endpoint(): string {
    if (this.url === undefined) throw new Error('the gateway is not started');
    return this.url;
  }

  async probe(): Promise<ProbeResult> {
    const listening = this.server?.listening === true;
    const upstream = await new Promise<string | null>((resolve) => {
      const req = httpRequest(this.upstream, { method: 'HEAD', agent: this.agent, timeout: 3000 });
      req.on('response', (r) => {
        r.resume();
        resolve(null);
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 3 s')));
      req.on('error', (e) => resolve(e.message));
      req.end();
    });
    return probeResult(
      this.forms,
      [
        {
          name: 'listening',
          ok: listening,
          detail: listening ? this.endpoint : 'the gateway is not started',
        },
        {
          name: 'upstream',
          ok: upstream === null,
          detail: upstream === null ? `${this.upstream.origin} answers` : upstream,
        },
      ],
      { upstream: this.upstream.origin, ...(listening ? { endpoint: this.endpoint } : {}) },
    );
  }

  async grant(lease: LeaseGrant): Promise<Access> {
    checkLeaseId(lease.leaseId);
    // a repeated grant issues a new token: the earlier one (perhaps never delivered) stops working
    this.cut(lease.leaseId);
    const token = await this.tokens.issue(lease);
    const record = this.tokens.get(lease.leaseId) as TokenRecord;
    return { kind: 'http', endpoint: this.endpoint, token, concurrency: record.concurrency };
  }

  async suspend(leaseId: string): Promise<void> {
    // refused from this instant: the record's state is read by every request
    if (await this.tokens.setState(checkLeaseId(leaseId), 'suspended')) this.cut(leaseId);
  }

  async resume(leaseId: string): Promise<void> {
    await this.tokens.setState(checkLeaseId(leaseId), 'active');
  }

  async revoke(leaseId: string): Promise<void> {
    checkLeaseId(leaseId);
    await this.tokens.remove(leaseId);
    this.cut(leaseId);
  }

  async list(): Promise<HostLease[]> {
    await this.tokens.load();
    return this.tokens.all().map((r) => ({ leaseId: r.leaseId, state: r.state }));
  }

  /** Requests of the lease in flight now. */
  running(leaseId: string): number {
    return this.inFlight.get(leaseId)?.size ?? 0;
  }

  async close(): Promise<void> {
    for (const id of [...this.inFlight.keys()]) this.cut(id);
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server?.closeAllConnections();
    this.agent.destroy();
    await this.meter.close();
  }

  /** Cuts every request of the lease in flight (suspension and revoke take effect at once). */
  private cut(leaseId: string): void {
    const set = this.inFlight.get(leaseId);
    if (set === undefined) return;
    this.inFlight.delete(leaseId);
    for (const abort of set) abort();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const record = this.tokens.authenticate(req.headers.authorization);
    if (record === undefined) {
      req.resume();
      refuse(res, 401, 'unauthenticated', 'a valid lease token is required', {
        'www-authenticate': 'Bearer realm="suanli"',
      });
      return;
    }
    const leaseId = record.leaseId;
    if (record.state !== 'active') {
      req.resume();
      refuse(res, 403, 'lease_suspended', 'the lease is suspended');
      return;
    }
    let set = this.inFlight.get(leaseId);
    if (set === undefined) this.inFlight.set(leaseId, (set = new Set()));
    if (set.size >= record.concurrency) {
      req.resume();
      refuse(
        res,
        429,
        'concurrency_limit',
        `the lease runs ${record.concurrency} request(s) at once`,
        {
          'retry-after': '1',
        },
      );
      return;
    }
    this.forward(leaseId, set, req, res);
  }

  private forward(
    leaseId: string,
    set: Set<() => void>,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    const base = this.upstream.pathname.replace(/\/$/, '');
    const headers = forwardHeaders(req.headers, REQUEST_DROP);
    headers['x-suanli-lease-id'] = leaseId;
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    const up = httpRequest({
      protocol: this.upstream.protocol,
      hostname: this.upstream.hostname,
      port: this.upstream.port,
      method: req.method,
      path: base + (req.url ?? '/'),
      headers,
      agent: this.agent,
      timeout: this.options.upstreamTimeoutMs ?? 60_000,
    });
    let done = false;
    const abort = (): void => {
      // suspension or revoke: the buyer's connection ends without the rest of the response
      finish();
      up.destroy();
      res.destroy();
    };
    const finish = (): void => {
      if (done) return;
      done = true;
      set.delete(abort);
    };
    set.add(abort);
    req.on('aborted', () => {
      finish();
      up.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
      finish();
    });
    up.on('timeout', () => up.destroy(new Error('upstream timeout')));
    up.on('error', (err) => {
      if (res.headersSent) {
        res.destroy();
      } else if (!done) {
        const timeout = err.message === 'upstream timeout';
        refuse(
          res,
          timeout ? 504 : 502,
          timeout ? 'upstream_timeout' : 'upstream_unavailable',
          timeout ? 'the service did not answer in time' : 'the service cannot be reached',
        );
      }
      finish();
    });
    up.on('response', (upRes) => {
      if (done) {
        upRes.destroy();
        return;
      }
      // one call from the moment the service answers; bytes as they reach the buyer
      let bytes = 0;
      res.writeHead(upRes.statusCode ?? 502, forwardHeaders(upRes.headers, NONE));
      upRes.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (!res.write(chunk)) {
          upRes.pause();
          res.once('drain', () => upRes.resume());
        }
      });
      let metered = false;
      const meter = (): void => {
        if (metered) return;
        metered = true;
        this.meter.record(leaseId, 1, bytes);
      };
      upRes.on('end', () => {
        if (!done) res.end();
        meter();
        finish();
      });
      upRes.on('close', () => {
        // cut (suspension, revoke), or the service broke off: what reached the buyer counts
        meter();
        if (!upRes.complete) res.destroy();
        finish();
      });
    });
    req.pipe(up);
  }
}
