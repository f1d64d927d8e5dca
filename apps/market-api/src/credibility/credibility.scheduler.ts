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
import { CredibilityConfig } from './credibility.config.js';
import { ScoresService } from './scores.service.js';

/**
 * Recomputes the scores of resources with new lease or telemetry evidence every
 * CREDIBILITY_STALE_SECONDS (300), and every score every CREDIBILITY_INTERVAL_SECONDS (nightly)
 * so that decay reaches them. Evaluations and disputes recompute at once, without it. Off with
 * CREDIBILITY_SCHEDULER=off, or when SETTLEMENT_SCHEDULER=off (the test harness sets that).
 * One instance at a time runs each (the `credibility-all` / `credibility-stale` leader locks).
 */
@Injectable()
export class CredibilityScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('credibility-scheduler');
  private timer: NodeJS.Timeout | null = null;
  private staleTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly scores: ScoresService,
    private readonly config: CredibilityConfig,
    @Optional() @InjectDataSource() private readonly db?: DataSource,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  private lead<T>(job: string, fn: () => Promise<T>): Promise<T | null> {
    return runScheduledJob(job, fn, { db: this.db, metrics: this.metrics }).then((r) =>
      r.ran ? r.value : null,
    );
  }

  onApplicationBootstrap(): void {
    if (!this.config.schedulerEnabled || process.env.SETTLEMENT_SCHEDULER === 'off') {
      this.log.log('credibility scheduler is off');
      return;
    }
    this.timer = setInterval(() => this.tick(), this.config.intervalMs);
    this.timer.unref();
    this.staleTimer = setInterval(() => this.tickStale(), this.config.staleMs);
    this.staleTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.staleTimer) clearInterval(this.staleTimer);
    this.timer = null;
    this.staleTimer = null;
    await this.running;
  }

  /** One run at a time: a tick while the previous run is still going is skipped. */
  tick(): void {
    if (this.running) return;
    this.running = this.lead('credibility-all', () => this.scores.recomputeAll())
      .then((r) => {
        if (r === null) return;
        this.log.log(
          `recomputed ${r.resources} resources, ${r.sellers} sellers (${r.failed} failed)`,
        );
      })
      .catch((e: unknown) => this.log.error(`credibility run failed: ${String(e)}`))
      .finally(() => {
        this.running = null;
      });
  }

  /** Resources with new evidence; skipped while any run is going. */
  tickStale(): void {
    if (this.running) return;
    this.running = this.lead('credibility-stale', () => this.scores.recomputeStale())
      .then((r) => {
        if (r !== null && r.resources > 0)
          this.log.log(`recomputed ${r.resources} resources with new evidence`);
      })
      .catch((e: unknown) => this.log.error(`credibility stale run failed: ${String(e)}`))
      .finally(() => {
        this.running = null;
      });
  }
}
