import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { PlatformKeys } from '../auth/platform-keys.js';
import { Public } from '../auth/auth.decorators.js';

@Controller()
export class HealthController {
  private readonly kafka: Kafka;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly keys: PlatformKeys,
    config: AppConfig,
  ) {
    this.kafka = new Kafka({
      clientId: 'market-api-health',
      brokers: config.kafkaBrokers,
      connectionTimeout: 2000,
      requestTimeout: 3000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
  }

  /**
   * Liveness: answers `{"status":"ok"}` while the process serves HTTP, whatever its dependencies do
   * (for restarts by an orchestrator).
   *
   * @summary Check that the process is alive
   */
  @Public()
  @Get('health/live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  /**
   * Ready when PostgreSQL and Kafka both answer; 503 names what does not.
   *
   * @summary Check that the API can serve requests
   */
  @Public()
  @Get('health/ready')
  async ready(@Res({ passthrough: true }) res: Response) {
    const [postgres, kafka] = await Promise.all([
      this.db.query('SELECT 1').then(
        () => 'ok',
        (e: Error) => `down: ${e.message}`,
      ),
      this.checkKafka(),
    ]);
    const ok = postgres === 'ok' && kafka === 'ok';
    res.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', checks: { postgres, kafka } };
  }

  /**
   * The platform's public Ed25519 keys as a JSON Web Key Set: they verify access tokens, signed
   * checkpoints, invoices and federation records.
   *
   * @summary Get the platform's public keys (JWKS)
   */
  @Public()
  @Get('.well-known/jwks.json')
  jwks() {
    return this.keys.jwks();
  }

  private async checkKafka(): Promise<string> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return 'ok';
    } catch (e) {
      return `down: ${(e as Error).message}`;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
