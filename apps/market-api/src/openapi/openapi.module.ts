import { Module } from '@nestjs/common';
import { OpenApiController } from './openapi.controller.js';

/** Serves `/openapi.json` and the reference page `/docs`. */
@Module({ controllers: [OpenApiController] })
export class OpenApiModule {}
