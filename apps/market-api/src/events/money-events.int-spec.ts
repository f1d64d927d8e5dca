import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { EntityManager } from 'typeorm';
import { generateSigningKey } from '@suanli/crypto';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/db.js';
import { createApp } from '../app.factory.js';
import { FixedClock } from '../common/clock.js';
import { AppConfig } from '../config/app-config.js';
import { SettlementLogLeaves } from '../settlement-log/settlement-log.events.js';
import { SettlementLogModule } from '../settlement-log/settlement-log.module.js';
import {
  MissingMoneyEventHandler,
  MoneyEventHandler,
  type MoneyEventMap,
  MoneyEvents,
  OnMoneyEvent,
} from './money-events.js';

jest.setTimeout(120_000);

class Recorder {
  calls: string[] = [];
  @OnMoneyEvent('debit-notes.issued')
  async notes(_m: EntityManager, e: MoneyEventMap['debit-notes.issued']): Promise<void> {
    this.calls.push(`notes:${e.notes.length}`);
  }
  @OnMoneyEvent('invoice.issued')
  async invoice(_m: EntityManager, e: MoneyEventMap['invoice.issued']): Promise<void> {
    this.calls.push(`invoice:${e.invoice.number}`);
  }
  @OnMoneyEvent('credit-note.issued')
  async credit(_m: EntityManager, e: MoneyEventMap['credit-note.issued']): Promise<void> {
    this.calls.push(`credit:${e.sla.creditPercent}`);
  }
}

class Payouts {
  constructor(private readonly calls: string[]) {}
  @OnMoneyEvent('payout.booked')
  async payout(_m: EntityManager, e: MoneyEventMap['payout.booked']): Promise<void> {
    this.calls.push(`payout:${e.payout.reference}`);
  }
}

describe('money events', () => {
  it('refuses a bus with an event no handler takes, naming it', () => {
    expect(() => MoneyEvents.of()).toThrow(
      'money events without a handler: debit-notes.issued, invoice.issued, credit-note.issued, payout.booked',
    );
    expect(() => MoneyEvents.of(new Recorder())).toThrow(MissingMoneyEventHandler);
    expect(() => MoneyEvents.of(new Recorder())).toThrow(/: payout\.booked$/);
  });

  it("runs the event's handlers, in order, with the emitter's transaction", async () => {
    const r = new Recorder();
    const bus = MoneyEvents.of(r, new Payouts(r.calls));
    const m = {} as EntityManager;
    await bus.emit(m, 'debit-notes.issued', { notes: [] });
    await bus.emit(m, 'payout.booked', {
      payout: {
        id: 'p',
        orgId: 'o',
        currency: 'CNY',
        amount: '1.00',
        reference: 'payout:1',
        createdAt: new Date(),
      },
    });
    expect(r.calls).toEqual(['notes:0', 'payout:payout:1']);
  });
});

describe('the app without the settlement log handler', () => {
  let db: TestDatabase;
  let config: AppConfig;
  beforeAll(async () => {
    process.env.SETTLEMENT_SCHEDULER = 'off';
    db = await createTestDatabase();
    const key = await generateSigningKey();
    config = AppConfig.fromEnv({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      PLATFORM_SIGNING_JWK: JSON.stringify({ ...key.privateJwk, kid: key.kid }),
      PORT: '0',
    });
  });
  afterAll(async () => {
    await db?.drop();
  });

  const start = async () => {
    const app = await createApp(config, { clock: new FixedClock(new Date()), logger: false });
    try {
      await app.init();
      return app.get(MoneyEvents);
    } finally {
      await app.close();
    }
  };

  it('starts with every handler, and fails to start when the handler is taken out', async () => {
    expect(Reflect.getMetadata(MoneyEventHandler.KEY, SettlementLogLeaves)).toBeDefined();
    expect(await start()).toBeInstanceOf(MoneyEvents);
    // The settlement-log module as it would be without its money-event handler.
    const providers = Reflect.getMetadata('providers', SettlementLogModule) as unknown[];
    Reflect.defineMetadata(
      'providers',
      providers.filter((p) => p !== SettlementLogLeaves),
      SettlementLogModule,
    );
    try {
      await expect(start()).rejects.toThrow(
        'money events without a handler: debit-notes.issued, invoice.issued, credit-note.issued, payout.booked',
      );
    } finally {
      Reflect.defineMetadata('providers', providers, SettlementLogModule);
    }
  });
});
