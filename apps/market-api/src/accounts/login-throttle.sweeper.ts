import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { repeatScheduledJob, runScheduledJob } from '../jobs/scheduled-job.js';
import { Metrics } from '../observability/metrics.js';
import { LoginThrottle } from './login-throttle.js';

/** How often forgotten `login_throttles` rows are deleted. */
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Deletes the per-account log-in counts that have been forgotten (docs/security.md, "Log-in
 * abuse"), so that guesses at many e-mails do not leave one row each for ever. A scheduled job
 * (`login-throttles`, one instance at a time under its leader lock) at start and every 10
 * minutes; off when SETTLEMENT_SCHEDULER=off (the test harness, which calls `runOnce`).
 */
@Injectable()
export class LoginThrottleSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('login-throttles');
  private job: { stop(): Promise<void> } | undefined;

  constructor(
    private readonly throttle: LoginThrottle,
    @InjectDataSource() private readonly db: DataSource,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    if (process.env.SETTLEMENT_SCHEDULER === 'off') return;
    this.job = repeatScheduledJob(
      'login-throttles',
      SWEEP_INTERVAL_MS,
      () => this.throttle.purgeForgotten(),
      { db: this.db, metrics: this.metrics, warn: (m) => this.log.error(m) },
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.job?.stop();
  }

  /** One sweep: the number of rows deleted, or null when another instance holds the job. */
  async runOnce(): Promise<number | null> {
    const r = await runScheduledJob('login-throttles', () => this.throttle.purgeForgotten(), {
      db: this.db,
      metrics: this.metrics,
    });
    return r.ran ? r.value : null;
  }
}
