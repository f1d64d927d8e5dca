import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

// The dashboards and alert rules in ops/ only name metrics the services export, so a renamed
// metric cannot silently blank a panel or disarm an alert.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (...p: string[]) => readFileSync(join(ROOT, ...p), 'utf8');

/** Metric names the code defines (prom-client `name:` and the ingest's text exposition). */
function exportedMetrics(): Set<string> {
  const sources = [
    read('apps/market-api/src/observability/metrics.ts'),
    read('apps/market-api/src/monitoring/monitoring.service.ts'),
    read('apps/market-api/src/federation/national-monitoring.ts'),
    read('apps/metering/src/ingest/metrics.ts'),
    read('apps/metering/src/agent/metrics.ts'),
    read('apps/web/lib/metrics.ts'),
  ].join('\n');
  const names = new Set<string>();
  for (const m of sources.matchAll(
    /(?:name: |counter\(\s*|# TYPE )'?((?:suanli|metering)_[a-z_]+)/g,
  )) {
    names.add(m[1]);
  }
  return names;
}

/** A referenced series name → the metric that produces it (histogram/summary suffixes). */
function baseName(series: string, known: Set<string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (series.endsWith(suffix) && known.has(series.slice(0, -suffix.length))) {
      return series.slice(0, -suffix.length);
    }
  }
  return series;
}

function referenced(text: string): string[] {
  return [...text.matchAll(/\b((?:suanli|metering)_[a-z_]+)/g)]
    .map((m) => m[1])
    .filter((n) => !n.startsWith('suanli_market_api_')); // prom-client's default metrics
}

describe('ops files', () => {
  const known = exportedMetrics();

  it('finds the exported metrics', () => {
    expect(known).toContain('suanli_http_request_duration_seconds');
    expect(known).toContain('metering_ingest_consumer_lag');
    expect(known).toContain('metering_dead_letters');
    expect(known).toContain('metering_agent_spool_oldest_age_seconds');
    expect(known).toContain('suanli_web_upstream_errors_total');
  });

  it('alert rules only use exported metrics', () => {
    const unknown = referenced(read('ops/prometheus/rules.yml')).filter(
      (n) => !known.has(baseName(n, known)),
    );
    expect(unknown).toEqual([]);
  });

  it('dashboards are valid JSON and only use exported metrics', () => {
    const dir = join(ROOT, 'ops', 'grafana', 'dashboards');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const dash = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
        uid: string;
        panels: { targets: { expr: string }[] }[];
      };
      expect(dash.uid).toMatch(/^suanli-/);
      const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
      expect(referenced(exprs).filter((n) => !known.has(baseName(n, known)))).toEqual([]);
    }
  });

  it('the production compose file has 3 brokers with RF 3, min ISR 2, and a standby', () => {
    const compose = read('ops/docker-compose.prod.yml');
    expect(compose.match(/KAFKA_NODE_ID: \d/g)).toHaveLength(3);
    expect(compose).toContain('KAFKA_DEFAULT_REPLICATION_FACTOR: 3');
    expect(compose).toContain('KAFKA_MIN_INSYNC_REPLICAS: 2');
    expect(compose).toContain('--replication-factor 3');
    expect(compose).toContain('pg-standby:');
    expect(compose).toMatch(/synchronous_standby_names=/);
  });

  it('the failover script fences, promotes, re-points pg-router and waits for the services', () => {
    const dir = mkdtempSync(join(tmpdir(), 'suanli-failover-'));
    try {
      const cfg = join(dir, 'haproxy.cfg');
      copyFileSync(join(ROOT, 'ops', 'haproxy', 'haproxy.cfg'), cfg);
      // A stand-in for `docker compose`: records each call; the standby is out of recovery.
      const calls = join(dir, 'calls.txt');
      const compose = join(dir, 'compose');
      writeFileSync(
        compose,
        `#!/bin/sh\necho "$*" >> '${calls}'\ncase "$*" in *pg_is_in_recovery*) echo f;; esac\n`,
      );
      chmodSync(compose, 0o755);
      const r = spawnSync('bash', [join(ROOT, 'ops', 'postgres', 'failover.sh')], {
        env: { ...process.env, COMPOSE: compose, ROUTER_CONFIG: cfg },
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const log = readFileSync(calls, 'utf8').trim().split('\n');
      expect(log[0]).toBe('stop pg-primary');
      expect(log[1]).toMatch(/^exec -T pg-standby psql .*pg_promote\(true, 60\)/);
      expect(log).toContain('kill -s HUP pg-router');
      for (const s of ['market-api-1', 'market-api-2', 'ingest-1', 'ingest-2']) {
        expect(log.some((l) => l.startsWith(`exec -T ${s} node -e`))).toBe(true);
      }
      const after = readFileSync(cfg, 'utf8');
      expect(after).toMatch(/server pg-primary .* disabled\n/);
      expect(after).toMatch(/server pg-standby pg-standby:5432 check inter 1s\n/);
      // Run again (already failed over): refuses to touch the router.
      const again = spawnSync('bash', [join(ROOT, 'ops', 'postgres', 'failover.sh')], {
        env: { ...process.env, COMPOSE: compose, ROUTER_CONFIG: cfg },
        encoding: 'utf8',
      });
      expect(again.status).toBe(1);
      expect(again.stdout).toBe(''); // nothing fenced or promoted either
      expect(readFileSync(cfg, 'utf8')).toBe(after);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
