import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { cloudEventsBody } from './cloudevents-body.js';
import { UsageController } from './usage.controller.js';
import { UsageProducer } from './usage-producer.js';
import { UsageService } from './usage.service.js';

/** Usage: HTTP ingest of unsigned CloudEvents, dead letters, per-resource usage. */
@Module({
  controllers: [UsageController],
  providers: [UsageService, UsageProducer],
})
export class UsageModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(cloudEventsBody)
      .forRoutes({ path: 'v1/usage/events', method: RequestMethod.POST });
  }
}
