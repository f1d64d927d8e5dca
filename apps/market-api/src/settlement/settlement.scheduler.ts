import { randomUUID } from 'node:crypto';
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
import { withRun } from '../observability/correlation-context.js';
import { runScheduledJob } from '../jobs/scheduled-job.js';
import { Metrics } from '../observability/metrics.js';
import { SettlementConfig } from './settlement.config.js';
import { SettlementService } from './settlement.service.js';
import { SlaWatch } from './sla-watch.service.js';

/**
 * Runs the SLA watch and then settlement every SETTLEMENT_INTERVAL_SECONDS (60) unless
 * SETTLEMENT_SCHEDULER=off. With
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
    private readonly slaWatch: SlaWatch,
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

  /**
   * One settlement run if this instance leads: `ran`, `skipped` (another leads) or `failed`.
   * Every log line of the run carries its `runId` (also recorded on its debit notes).
   */
  runOnce(): Promise<'ran' | 'skipped' | 'failed'> {
    return withRun(randomUUID(), () => this.runLed());
  }

  private async runLed(): Promise<'ran' | 'skipped' | 'failed'> {
    try {
      // First the SLA watch (its own leader lock): leases it ends are settled in this tick.
      const w = await runScheduledJob('sla-watch', () => this.slaWatch.run(this.clock.now()), {
        db: this.db,
        metrics: this.metrics,
      });
      if (w.ran && w.value.breached.length > 0) {
        this.log.log(`sla watch: ${w.value.breached.length} lease(s) ended (sla_breach)`);
      }
      const r = await runScheduledJob(
        'settlement',
        () => this.settlement.runDue(this.clock.now()),
        { db: this.db, metrics: this.metrics },
      );
      if (!r.ran) return 'skipped';
      const s = r.value;
      this.metrics?.countSettlement(s);
      if (s.debitNotes + s.invoices + s.suspended + s.resumed + s.failed.length > 0) {
        this.log.log(
          `settlement run ${s.runId}: ${s.debitNotes} debit notes, ${s.invoices} invoices, ${s.suspended} suspended, ${s.resumed} resumed, ${s.failed.length} failed`,
        );
      }
      return 'ran';
    } catch (e) {
      this.log.error(`settlement run failed: ${String(e)}`);
      return 'failed';
    }
  }
}
