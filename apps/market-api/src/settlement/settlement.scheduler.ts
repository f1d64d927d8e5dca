import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { SettlementConfig } from './settlement.config.js';
import { SettlementService } from './settlement.service.js';

/** Runs settlement every SETTLEMENT_INTERVAL_SECONDS (60) unless SETTLEMENT_SCHEDULER=off. */
@Injectable()
export class SettlementScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('settlement-scheduler');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly settlement: SettlementService,
    private readonly clock: Clock,
    private readonly config: SettlementConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.schedulerEnabled) {
      this.log.log('settlement scheduler is off (SETTLEMENT_SCHEDULER=off)');
      return;
    }
    this.timer = setInterval(() => this.tick(), this.config.intervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One run at a time: a tick while the previous run is still going is skipped. */
  private tick(): void {
    if (this.running) return;
    this.running = this.settlement
      .runDue(this.clock.now())
      .then((r) => {
        if (r.debitNotes + r.invoices + r.suspended + r.resumed + r.failed.length > 0) {
          this.log.log(
            `settled: ${r.debitNotes} debit notes, ${r.invoices} invoices, ${r.suspended} suspended, ${r.resumed} resumed, ${r.failed.length} failed`,
          );
        }
      })
      .catch((e: unknown) => this.log.error(`settlement run failed: ${String(e)}`))
      .finally(() => {
        this.running = null;
      });
  }
}
