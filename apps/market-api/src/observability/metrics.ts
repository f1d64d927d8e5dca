import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Decimal } from '@suanli/money';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/**
 * A sample for Prometheus from a decimal amount. Prometheus stores float64 samples: this is for
 * dashboards and alerts only; no money is ever computed from it.
 */
export const sampleOf = (amount: string): number => new Decimal(amount).toNumber();

/** Outcome of one scheduled job tick on this instance. */
export type JobOutcome = 'ran' | 'skipped' | 'failed';

/**
 * The market API's Prometheus metrics, in a registry of its own (tests boot several apps in one
 * process). Counters are per instance; the database-backed gauges (amounts settled and paid out)
 * are the same on every instance: aggregate them with max(), not sum().
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'suanli_http_request_duration_seconds',
    help: 'HTTP request latency by route (the route pattern, not the URL), method and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly jobRuns = new Counter({
    name: 'suanli_job_runs_total',
    help: 'Scheduled job ticks by job and outcome (skipped: another instance holds the lock).',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'suanli_job_duration_seconds',
    help: 'Duration of scheduled job runs that this instance led.',
    labelNames: ['job'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly jobLastSuccess = new Gauge({
    name: 'suanli_job_last_success_timestamp_seconds',
    help: 'Unix time of the last successful run of a job led by this instance.',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });

  readonly settlementItems = new Counter({
    name: 'suanli_settlement_items_total',
    help: 'Settlement results: debit notes, invoices, suspended, resumed, failed leases.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly ledgerChecks = new Counter({
    name: 'suanli_ledger_balance_checks_total',
    help: 'Trial balance checks by result (balanced, unbalanced, error).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly ledgerBalanced = new Gauge({
    name: 'suanli_ledger_balanced',
    help: '1 when the last trial balance was zero in every currency, 0 when it was not.',
    registers: [this.registry],
  });

  readonly ledgerImbalance = new Gauge({
    name: 'suanli_ledger_imbalance',
    help: 'Sum of ledger entries per currency at the last check (must be 0).',
    labelNames: ['currency'] as const,
    registers: [this.registry],
  });

  readonly payouts = new Counter({
    name: 'suanli_payouts_total',
    help: 'Payout run results: booked, sent, failed.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly webhooks = new Counter({
    name: 'suanli_webhook_events_total',
    help: 'Stripe webhook deliveries by event type and outcome (credited, duplicate, rejected, …).',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly leaseEventsRelayed = new Counter({
    name: 'suanli_lease_events_relayed_total',
    help: 'Lease events the outbox relay sent to Kafka (published) or failed to send (failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(@InjectDataSource() db: DataSource) {
    // Series an alert takes increase() of exist from the start at 0, so that their first
    // increment counts (ops/prometheus/rules.yml, LedgerUnbalanced).
    for (const result of ['balanced', 'unbalanced', 'error']) this.ledgerChecks.inc({ result }, 0);
    collectDefaultMetrics({ register: this.registry, prefix: 'suanli_market_api_' });
    const settled = new Gauge({
      name: 'suanli_settlement_amount',
      help: 'Gross amount and platform fee settled in debit notes so far, per currency.',
      labelNames: ['currency', 'part'] as const,
      registers: [this.registry],
      async collect() {
        const rows = await db
          .query<{ currency: string; gross: string; fee: string; n: string }[]>(
            `SELECT currency, SUM(gross)::text AS gross, SUM(fee)::text AS fee, COUNT(*)::text AS n
               FROM debit_notes GROUP BY currency`,
          )
          .catch(() => []);
        this.reset();
        for (const r of rows) {
          this.set({ currency: r.currency, part: 'gross' }, sampleOf(r.gross));
          this.set({ currency: r.currency, part: 'fee' }, sampleOf(r.fee));
        }
      },
    });
    const paidOut = new Gauge({
      name: 'suanli_payout_amount',
      help: 'Amount sent to sellers (payout) and back to buyers (refund) so far, per currency.',
      labelNames: ['currency', 'kind', 'state'] as const,
      registers: [this.registry],
      async collect() {
        const rows = await db
          .query<{ currency: string; kind: string; sent: boolean; amount: string }[]>(
            `SELECT currency, kind, stripe_id IS NOT NULL AS sent, SUM(amount)::text AS amount
               FROM stripe_movements GROUP BY currency, kind, stripe_id IS NOT NULL`,
          )
          .catch(() => []);
        this.reset();
        for (const r of rows) {
          const labels = { currency: r.currency, kind: r.kind, state: r.sent ? 'sent' : 'pending' };
          this.set(labels, sampleOf(r.amount));
        }
      },
    });
    // The relay's backlog: leases the ingest cannot know yet (their usage waits, then is
    // dead-lettered as unknown_lease). Same on every instance: aggregate with max().
    const outbox = new Gauge({
      name: 'suanli_lease_events_outbox',
      help: 'Unpublished lease events (part="pending": count, part="oldest_age_seconds": age).',
      labelNames: ['part'] as const,
      registers: [this.registry],
      async collect() {
        const rows = await db
          .query<{ n: string; age: string | null }[]>(
            `SELECT COUNT(*)::text AS n,
                    EXTRACT(EPOCH FROM now() - MIN(created_at))::text AS age
               FROM lease_events_outbox WHERE published_at IS NULL`,
          )
          .catch(() => []);
        this.reset();
        for (const r of rows) {
          this.set({ part: 'pending' }, Number(r.n));
          this.set({ part: 'oldest_age_seconds' }, r.age === null ? 0 : sampleOf(r.age));
        }
      },
    });
    void settled;
    void paidOut;
    void outbox;
  }

  /** Counts what one settlement run did (scheduled or run by an operator). */
  countSettlement(s: {
    debitNotes: number;
    invoices: number;
    suspended: number;
    resumed: number;
    failed: unknown[];
  }): void {
    this.settlementItems.inc({ kind: 'debit_note' }, s.debitNotes);
    this.settlementItems.inc({ kind: 'invoice' }, s.invoices);
    this.settlementItems.inc({ kind: 'suspended' }, s.suspended);
    this.settlementItems.inc({ kind: 'resumed' }, s.resumed);
    this.settlementItems.inc({ kind: 'failed' }, s.failed.length);
  }

  /** Counts what one payout run did (scheduled or run by an operator). */
  countPayouts(p: { booked: number; sent: number; failed: unknown[] }): void {
    this.payouts.inc({ outcome: 'booked' }, p.booked);
    this.payouts.inc({ outcome: 'sent' }, p.sent);
    this.payouts.inc({ outcome: 'failed' }, p.failed.length);
  }

  /** Records one scheduled-job tick. */
  observeJob(job: string, outcome: JobOutcome, seconds?: number): void {
    this.jobRuns.inc({ job, outcome });
    if (outcome === 'ran' && seconds !== undefined) {
      this.jobDuration.observe({ job }, seconds);
      this.jobLastSuccess.set({ job }, Date.now() / 1000);
    }
  }
}
