import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SettlementConfig } from '../settlement/settlement.config.js';
import { DeliveryService } from './delivery.service.js';

const INTERVAL_MS = 10_000;

/**
 * Ends leases whose access was not reported by their provisioning deadline, every 10 s, with
 * settlement's scheduler switch (SETTLEMENT_SCHEDULER=off: tests call expireOverdue by hand).
 * Safe on several instances: each lease is row-locked and re-checked.
 */
@Injectable()
export class DeliveryScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('delivery-scheduler');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly delivery: DeliveryService,
    private readonly config: SettlementConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.schedulerEnabled) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.delivery
        .expireOverdue()
        .then((n) => n > 0 && this.log.log(`${n} lease(s) ended: provisioning deadline passed`))
        .catch((e: unknown) => this.log.error(`provisioning deadline sweep: ${String(e)}`))
        .finally(() => (this.running = null));
    }, INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
