import type { INestApplication, LoggerService } from '@nestjs/common';
import { generateSigningKey } from '@suanli/crypto';
import { AppConfig } from '../../apps/market-api/src/config/app-config.js';
import { type Clock, FixedClock } from '../../apps/market-api/src/common/clock.js';
import { createApp } from '../../apps/market-api/src/app.factory.js';
import { AccountsService } from '../../apps/market-api/src/accounts/accounts.service.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { TEST_METRICS_TOKEN } from './metrics.js';

export interface TestMarketApi {
  url: string;
  databaseUrl: string;
  app: INestApplication;
  clock: FixedClock;
  /** Logs in (HTTP) an operator created directly through the service. */
  operatorToken(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Boots the real market API in-process on a fresh database, with a clock the test drives.
 * The settlement scheduler is off: tests run settlement explicitly.
 */
export async function startMarketApi(
  opts: {
    clock?: FixedClock;
    database?: TestDatabase;
    /** Nest's logger (default: errors only), e.g. a JsonLogger writing to an array. */
    logger?: LoggerService;
  } = {},
): Promise<TestMarketApi> {
  process.env.SETTLEMENT_SCHEDULER = 'off';
  const db = opts.database ?? (await createTestDatabase());
  const key = await generateSigningKey();
  const config = AppConfig.fromEnv({
    DATABASE_URL: db.url,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    PLATFORM_SIGNING_JWK: JSON.stringify({ ...key.privateJwk, kid: key.kid }),
    PORT: '0',
    METRICS_TOKEN: TEST_METRICS_TOKEN,
  });
  const clock = opts.clock ?? new FixedClock(new Date('2026-11-28T10:00:00Z'));
  const app = await createApp(config, {
    clock: clock as Clock,
    logger: opts.logger ?? ['error'],
  });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  let operator: Promise<string> | undefined;
  return {
    url,
    databaseUrl: db.url,
    app,
    clock,
    operatorToken() {
      operator ??= (async () => {
        const email = 'operator@suanli.test';
        const password = 'operator-password-1';
        await app.get(AccountsService).createOrganization({
          email,
          password,
          displayName: 'Operator',
          organization: { name: 'Exchange operations', roles: ['operator'], industry: 'I' },
        });
        const r = await fetch(`${url}/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password }),
        });
        return ((await r.json()) as { accessToken: string }).accessToken;
      })();
      return operator;
    },
    async close() {
      await app.close();
      if (!opts.database) await db.drop();
    },
  };
}
