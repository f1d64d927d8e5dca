import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SettlementLogConfig } from './settlement-log.config.js';
import { SettlementLogService } from './settlement-log.service.js';

/** Sequences the log and signs a fresh checkpoint periodically (off with SETTLEMENT_SCHEDULER=off). */
@Injectable()
export class SettlementLogScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('settlement-log');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly service: SettlementLogService,
    private readonly config: SettlementLogConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.schedulerEnabled) return;
    const every = Math.min(this.config.checkpointMs, 10_000);
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.service.tick().finally(() => (this.running = undefined));
    }, every);
    this.timer.unref();
    this.log.log(`checkpoints at least every ${this.config.checkpointMs / 1000} s`);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
