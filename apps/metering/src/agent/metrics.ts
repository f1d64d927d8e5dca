// The metering agent's Prometheus metrics (prom-client, like market-api) and the optional
// listener that serves them (`--metrics-port` / AGENT_METRICS_PORT; off when unset).
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { AgentStats, SendObserver } from './agent.js';

/** What the spool gauges read at each scrape: one entry per configured agent. */
export interface SpoolSource {
  agentId: string;
  stats(): Promise<AgentStats>;
}

/**
 * Counters are per agent id (a process may run several agents) except the producer's connect
 * errors, which are the process's. Spool gauges are read from the spools when scraped.
 */
export class AgentMetrics {
  readonly registry = new Registry();

  readonly batchesProduced = new Counter({
    name: 'metering_agent_batches_produced_total',
    help: 'Signed usage batches Kafka acknowledged (acks from all in-sync replicas).',
    labelNames: ['agent'] as const,
    registers: [this.registry],
  });

  readonly eventsProduced = new Counter({
    name: 'metering_agent_events_produced_total',
    help: 'Usage events in the batches Kafka acknowledged.',
    labelNames: ['agent'] as const,
    registers: [this.registry],
  });

  readonly batchesSpooled = new Counter({
    name: 'metering_agent_batches_spooled_total',
    help: 'Usage batches signed and written to the spool.',
    labelNames: ['agent'] as const,
    registers: [this.registry],
  });

  readonly produceErrors = new Counter({
    name: 'metering_agent_produce_errors_total',
    help: 'Failed Kafka produce attempts (stage send) and producer connects (stage connect).',
    labelNames: ['agent', 'stage'] as const,
    registers: [this.registry],
  });

  readonly produceRetries = new Counter({
    name: 'metering_agent_produce_retries_total',
    help: 'Produce attempts retried after a failure (the same batches, unchanged).',
    labelNames: ['agent'] as const,
    registers: [this.registry],
  });

  readonly lastSendSuccess = new Gauge({
    name: 'metering_agent_last_send_success_timestamp_seconds',
    help: 'Unix time Kafka last acknowledged batches of this agent (absent until then).',
    labelNames: ['agent'] as const,
    registers: [this.registry],
  });

  readonly collectorReadErrors = new Counter({
    name: 'metering_agent_collector_read_errors_total',
    help: 'Usage reads that failed, by collector (the window is not spooled; see the log).',
    labelNames: ['agent', 'collector'] as const,
    registers: [this.registry],
  });

  readonly leaseFetchErrors = new Counter({
    name: 'metering_agent_lease_fetch_errors_total',
    help: 'Failed requests for the active leases to the market API.',
    labelNames: ['agent'] as const,
    registers: [this.registry],
  });

  constructor(sources: () => SpoolSource[]) {
    collectDefaultMetrics({ register: this.registry, prefix: 'metering_agent_' });
    const read = async () =>
      Promise.all(
        sources().map(async (s) => ({
          agent: s.agentId,
          stats: await s.stats().catch(() => null),
        })),
      );
    new Gauge({
      name: 'metering_agent_spool_batches',
      help: 'Signed batches waiting in the spool on disk (not yet acknowledged by Kafka).',
      labelNames: ['agent'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const r of await read()) if (r.stats) this.set({ agent: r.agent }, r.stats.spooled);
      },
    });
    new Gauge({
      name: 'metering_agent_spool_bytes',
      help: 'Bytes of the signed batches (JWS) waiting in the spool.',
      labelNames: ['agent'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const r of await read()) {
          if (r.stats) this.set({ agent: r.agent }, r.stats.spooledBytes);
        }
      },
    });
    new Gauge({
      name: 'metering_agent_spool_oldest_age_seconds',
      help: 'Age of the oldest batch waiting in the spool (0 when the spool is empty).',
      labelNames: ['agent'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const r of await read()) if (r.stats) this.set({ agent: r.agent }, r.stats.lagSeconds);
      },
    });
  }

  /** The hooks one agent's sender reports to. */
  observer(agent: string): SendObserver {
    return {
      spooled: () => this.batchesSpooled.inc({ agent }),
      sent: (batches, events) => {
        this.batchesProduced.inc({ agent }, batches);
        this.eventsProduced.inc({ agent }, events);
        this.lastSendSuccess.set({ agent }, Date.now() / 1000);
      },
      failed: (willRetry) => {
        this.produceErrors.inc({ agent, stage: 'send' });
        if (willRetry) this.produceRetries.inc({ agent });
      },
    };
  }
}

/**
 * Serves `GET /metrics` (Prometheus text format) on host:port; anything else is 404. Bind it to
 * loopback (the default) or an internal interface only: it carries counts, never keys or usage.
 */
export function serveMetrics(registry: Registry, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
