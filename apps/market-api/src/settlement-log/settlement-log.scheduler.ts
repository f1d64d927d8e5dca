import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { runScheduledJob } from '../jobs/scheduled-job.js';
import { Metrics } from '../observability/metrics.js';
import { SettlementLogConfig } from './settlement-log.config.js';
import { SettlementLogService } from './settlement-log.service.js';

/**
 * Sequences the log and signs a fresh checkpoint periodically (off with SETTLEMENT_SCHEDULER=off).
 * Every instance ticks; the service's advisory lock serializes them and a checkpoint is signed
 * only when the tree grew or the last one aged, so concurrent ticks sign nothing twice. Counted
 * as job `checkpoint` in `suanli_job_runs_total` (alert `CheckpointsNotRunning`).
 */
@Injectable()
export class SettlementLogScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('settlement-log');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly service: SettlementLogService,
    private readonly config: SettlementLogConfig,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.schedulerEnabled) return;
    const every = Math.min(this.config.checkpointMs, 10_000);
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce().finally(() => (this.running = undefined));
    }, every);
    this.timer.unref();
    this.log.log(`checkpoints at least every ${this.config.checkpointMs / 1000} s`);
  }

  /** One checkpoint tick: `ran` or `failed` (logged). */
  async runOnce(): Promise<'ran' | 'failed'> {
    try {
      await runScheduledJob('checkpoint', () => this.service.checkpoint(), {
        metrics: this.metrics,
      });
      return 'ran';
    } catch (e) {
      this.log.error(`checkpoint failed: ${(e as Error).message}`);
      return 'failed';
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
