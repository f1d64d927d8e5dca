// A deprecated operation over real HTTP: the OpenAPI module's interceptor adds Deprecation,
// Sunset and Link to its answers (success and the error envelope alike), and to no other.
import { Controller, Get, type INestApplication, Module, Param } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OpenApiModule } from '../openapi/openapi.module.js';
import { Deprecated } from './deprecation.js';
import { ErrorEnvelopeFilter } from './error.filter.js';
import { notFound } from './errors.js';

@Controller('v1')
class WidgetsController {
  @Deprecated({ since: '2026-12-07', sunset: '2027-06-30', successor: 'GET /v1/gadgets/{id}' })
  @Get('widgets/:id')
  widget(@Param('id') id: string) {
    if (id !== '1') throw notFound('widget', { id });
    return { id };
  }

  @Get('gadgets/:id')
  gadget(@Param('id') id: string) {
    return { id };
  }
}

@Module({
  imports: [OpenApiModule],
  controllers: [WidgetsController],
  providers: [{ provide: APP_FILTER, useClass: ErrorEnvelopeFilter }],
})
class WidgetsModule {}

let app: INestApplication;
let url: string;

beforeAll(async () => {
  app = await NestFactory.create(WidgetsModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
});

afterAll(async () => {
  await app.close();
});

describe('Deprecation and Sunset headers', () => {
  it('come with every answer of a deprecated operation', async () => {
    for (const [id, status] of [
      ['1', 200],
      ['2', 404],
    ] as const) {
      const res = await fetch(`${url}/v1/widgets/${id}`);
      expect(res.status).toBe(status);
      expect(res.headers.get('deprecation')).toBe('@1796601600');
      expect(res.headers.get('sunset')).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
      expect(res.headers.get('link')).toBe(
        '</docs>; rel="deprecation"; type="text/html", </v1/gadgets/{id}>; rel="successor-version"',
      );
    }
    const missing = await fetch(`${url}/v1/widgets/2`);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('do not come with other operations', async () => {
    const res = await fetch(`${url}/v1/gadgets/1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('deprecation')).toBeNull();
    expect(res.headers.get('sunset')).toBeNull();
    expect(res.headers.get('link')).toBeNull();
  });
});
