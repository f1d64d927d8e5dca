import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.js';
import { runScheduledJob } from '../metrics/job-runner.js';
import { Metrics } from '../metrics/metrics.js';
import { SettlementConfig } from './settlement.config.js';
import { SettlementService } from './settlement.service.js';

/**
 * Runs settlement every SETTLEMENT_INTERVAL_SECONDS (60) unless SETTLEMENT_SCHEDULER=off. With
 * several market-api instances, one of them (the holder of the `settlement` leader lock) runs
 * each tick; the others skip it.
 */
@Injectable()
export class SettlementScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('settlement-scheduler');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly settlement: SettlementService,
    private readonly clock: Clock,
    private readonly config: SettlementConfig,
    @Optional() @InjectDataSource() private readonly db?: DataSource,
    @Optional() private readonly metrics?: Metrics,
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
    this.running = this.runOnce().finally(() => {
      this.running = null;
    });
  }

  /** One settlement run if this instance leads: `ran`, `skipped` (another leads) or `failed`. */
  async runOnce(): Promise<'ran' | 'skipped' | 'failed'> {
    try {
      const r = await runScheduledJob(
        'settlement',
        () => this.settlement.runDue(this.clock.now()),
        { db: this.db, metrics: this.metrics },
      );
      if (!r.ran) return 'skipped';
      const s = r.value;
      const items = this.metrics?.settlementItems;
      items?.inc({ kind: 'debit_note' }, s.debitNotes);
      items?.inc({ kind: 'invoice' }, s.invoices);
      items?.inc({ kind: 'suspended' }, s.suspended);
      items?.inc({ kind: 'resumed' }, s.resumed);
      items?.inc({ kind: 'failed' }, s.failed.length);
      if (s.debitNotes + s.invoices + s.suspended + s.resumed + s.failed.length > 0) {
        this.log.log(
          `settled: ${s.debitNotes} debit notes, ${s.invoices} invoices, ${s.suspended} suspended, ${s.resumed} resumed, ${s.failed.length} failed`,
        );
      }
      return 'ran';
    } catch (e) {
      this.log.error(`settlement run failed: ${String(e)}`);
      return 'failed';
    }
  }
}
