import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { CredibilityConfig } from './credibility.config.js';
import { ScoresService } from './scores.service.js';

/**
 * Recomputes every score every CREDIBILITY_INTERVAL_SECONDS (nightly by default), so that
 * decay and evidence recorded elsewhere (telemetry, lease ends) reach the scores. Off with
 * CREDIBILITY_SCHEDULER=off, or when SETTLEMENT_SCHEDULER=off (the test harness sets that).
 */
@Injectable()
export class CredibilityScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('credibility-scheduler');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly scores: ScoresService,
    private readonly config: CredibilityConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.schedulerEnabled || process.env.SETTLEMENT_SCHEDULER === 'off') {
      this.log.log('credibility scheduler is off');
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
  tick(): void {
    if (this.running) return;
    this.running = this.scores
      .recomputeAll()
      .then((r) =>
        this.log.log(
          `recomputed ${r.resources} resources, ${r.sellers} sellers (${r.failed} failed)`,
        ),
      )
      .catch((e: unknown) => this.log.error(`credibility run failed: ${String(e)}`))
      .finally(() => {
        this.running = null;
      });
  }
}
