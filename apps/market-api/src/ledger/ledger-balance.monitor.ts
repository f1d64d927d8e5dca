import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { withLeaderLock } from '../jobs/leader-lock.js';
import { LedgerService } from './ledger.service.js';
import { Metrics, sampleOf } from '../observability/metrics.js';

/**
 * Checks the trial balance every LEDGER_CHECK_INTERVAL_SECONDS (60) on the leading instance and
 * exports the result (`suanli_ledger_balanced`, `suanli_ledger_balance_checks_total`); an
 * unbalanced ledger is logged as an error and pages the operator (ops/prometheus/rules.yml).
 * Off with SETTLEMENT_SCHEDULER=off (tests call `check()`).
 */
@Injectable()
export class LedgerBalanceMonitor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('ledger-check');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    if (process.env.SETTLEMENT_SCHEDULER === 'off') return;
    const seconds = Number(process.env.LEDGER_CHECK_INTERVAL_SECONDS ?? '60');
    this.timer = setInterval(
      () => {
        this.running ??= this.runOnce().finally(() => {
          this.running = null;
        });
      },
      (seconds > 0 ? seconds : 60) * 1000,
    );
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One check under the leader lock: 'ran' or 'skipped' (another instance checks). */
  async runOnce(): Promise<'ran' | 'skipped' | 'failed'> {
    try {
      const r = await withLeaderLock(this.db, 'ledger-check', () => this.check());
      this.metrics.observeJob('ledger-check', r.ran ? 'ran' : 'skipped', 0);
      return r.ran ? 'ran' : 'skipped';
    } catch (e) {
      this.metrics.observeJob('ledger-check', 'failed');
      this.log.error(`ledger check failed: ${String(e)}`);
      return 'failed';
    }
  }

  /** Runs the trial balance and records it; true when balanced. */
  async check(): Promise<boolean> {
    try {
      const tb = await this.ledger.trialBalance();
      this.metrics.ledgerChecks.inc({ result: tb.balanced ? 'balanced' : 'unbalanced' });
      this.metrics.ledgerBalanced.set(tb.balanced ? 1 : 0);
      for (const c of tb.currencies) {
        this.metrics.ledgerImbalance.set({ currency: c.currency }, sampleOf(c.entries));
      }
      if (!tb.balanced) this.log.error(`ledger does not balance: ${JSON.stringify(tb.currencies)}`);
      return tb.balanced;
    } catch (e) {
      this.metrics.ledgerChecks.inc({ result: 'error' });
      throw e;
    }
  }
}
