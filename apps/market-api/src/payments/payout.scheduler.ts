import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { PaymentsConfig } from './payments.config.js';
import { PayoutsService } from './payouts.service.js';

/** Runs the payout schedule every PAYOUT_INTERVAL_SECONDS (daily) unless PAYOUT_SCHEDULER=off. */
@Injectable()
export class PayoutScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('payout-scheduler');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly payouts: PayoutsService,
    private readonly config: PaymentsConfig,
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
    this.running = this.payouts
      .runPayouts()
      .then((r) => {
        if (r.booked + r.sent + r.failed.length > 0) {
          this.log.log(`payouts: ${r.booked} booked, ${r.sent} sent, ${r.failed.length} failed`);
        }
      })
      .catch((e: unknown) => this.log.error(`payout run failed: ${String(e)}`))
      .finally(() => {
        this.running = null;
      });
  }
}
