import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { runScheduledJob } from '../jobs/scheduled-job.js';
import { Metrics } from '../observability/metrics.js';
import { PaymentsConfig } from './payments.config.js';
import { PayoutsService } from './payouts.service.js';

/**
 * Runs the payout schedule every PAYOUT_INTERVAL_SECONDS (daily) unless PAYOUT_SCHEDULER=off;
 * one instance at a time (the `payouts` leader lock).
 */
@Injectable()
export class PayoutScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('payout-scheduler');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly payouts: PayoutsService,
    private readonly config: PaymentsConfig,
    @Optional() @InjectDataSource() private readonly db?: DataSource,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.payoutScheduler || process.env.SETTLEMENT_SCHEDULER === 'off') return;
    this.timer = setInterval(() => this.tick(), this.config.payoutIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.runOnce().finally(() => {
      this.running = null;
    });
  }

  /** One payout run if this instance leads: `ran`, `skipped` (another leads) or `failed`. */
  async runOnce(): Promise<'ran' | 'skipped' | 'failed'> {
    try {
      const r = await runScheduledJob('payouts', () => this.payouts.runPayouts(), {
        db: this.db,
        metrics: this.metrics,
      });
      if (!r.ran) return 'skipped';
      const p = r.value;
      this.metrics?.countPayouts(p);
      if (p.booked + p.sent + p.failed.length > 0) {
        this.log.log(`payouts: ${p.booked} booked, ${p.sent} sent, ${p.failed.length} failed`);
      }
      return 'ran';
    } catch (e) {
      this.log.error(`payout run failed: ${String(e)}`);
      return 'failed';
    }
  }
}
