import { Injectable, Module, type OnModuleInit, Optional, SetMetadata } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import type { EntityManager } from 'typeorm';
import type { InvoiceLineView } from '@suanli/contracts';

// Money side effects as typed domain events, handled inside the transaction that moves the
// money (docs/decisions.md, "One ledger path"). One event map; handlers are methods marked
// `@OnMoneyEvent(name)` on classes marked `@MoneyEventHandler()`, found when the app starts.
// Every event must have a handler: a missing one fails start-up, so that a side effect (the
// settlement log's leaves) can never silently stop.

/** A debit note as written: a settled period, or a reserved lease's prepaid block. */
export interface DebitNoteRecord {
  id: string;
  kind: string;
  leaseId: string;
  sellerOrgId: string;
  buyerOrgId: string;
  currency: string;
  periodStart: Date;
  periodEnd: Date;
  lines: InvoiceLineView[];
  gross: string;
  fee: string;
  net: string;
  createdAt: Date;
}

/** A final invoice as issued. */
export interface InvoiceRecord {
  id: string;
  number: string;
  leaseId: string;
  buyerOrgId: string;
  sellerOrgId: string;
  currency: string;
  periodStart: Date;
  periodEnd: Date;
  lines: InvoiceLineView[];
  debitNoteIds: string[];
  subtotal: string;
  credits: string;
  total: string;
  fee: string;
  issuedAt: Date;
}

/** A seller payout as booked (a `stripe_movements` row of kind payout). */
export interface PayoutRecord {
  id: string;
  orgId: string;
  currency: string;
  amount: string;
  reference: string;
  createdAt: Date;
}

/** Every money event and its payload. */
export interface MoneyEventMap {
  /** Debit notes were written (one period, a chunk of periods, or a prepaid block). */
  'debit-notes.issued': { notes: readonly DebitNoteRecord[] };
  /** A lease's final invoice was issued. */
  'invoice.issued': { invoice: InvoiceRecord };
  /** An SLA credit note was issued with the invoice (its credit was posted and paid). */
  'credit-note.issued': {
    invoice: InvoiceRecord;
    sla: { sellerShare: string; platformShare: string; creditPercent: string };
  };
  /** A seller payout was booked in the ledger (before it is sent to Stripe). */
  'payout.booked': { payout: PayoutRecord };
}

export type MoneyEvent = keyof MoneyEventMap;

/** A handler: runs in the emitter's transaction; throwing rolls the money movement back. */
export type MoneyEventHandlerFn<E extends MoneyEvent> = (
  m: EntityManager,
  payload: MoneyEventMap[E],
) => Promise<void>;

// Written as a record so that the compiler insists on every event of the map.
const REQUIRED: Record<MoneyEvent, true> = {
  'debit-notes.issued': true,
  'invoice.issued': true,
  'credit-note.issued': true,
  'payout.booked': true,
};
/** The events that must each have at least one handler. */
export const MONEY_EVENTS = Object.keys(REQUIRED) as MoneyEvent[];

/** Marks a class whose methods handle money events (so that start-up finds it). */
export const MoneyEventHandler = DiscoveryService.createDecorator<Record<string, never>>();

const ON_EVENT = 'suanli:on-money-event';

/** Marks a method as the handler of `event`; its signature is checked against the event map. */
export const OnMoneyEvent =
  <E extends MoneyEvent>(event: E) =>
  (
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<MoneyEventHandlerFn<E>>,
  ): void => {
    SetMetadata(ON_EVENT, event)(target, key, descriptor);
  };

/** Thrown at start-up when an event has no handler. */
export class MissingMoneyEventHandler extends Error {
  constructor(readonly events: MoneyEvent[]) {
    super(`money events without a handler: ${events.join(', ')}`);
    this.name = 'MissingMoneyEventHandler';
  }
}

type AnyHandler = (m: EntityManager, payload: unknown) => Promise<void>;

/** The handler methods of `instance`, by event (its class and superclasses). */
function handlersOf(instance: object): [MoneyEvent, AnyHandler][] {
  const found: [MoneyEvent, AnyHandler][] = [];
  const seen = new Set<string>();
  for (let p = Object.getPrototypeOf(instance); p && p !== Object.prototype;) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name === 'constructor' || seen.has(name)) continue;
      seen.add(name);
      const fn = (instance as Record<string, unknown>)[name];
      if (typeof fn !== 'function') continue;
      const event = Reflect.getMetadata(ON_EVENT, fn) as MoneyEvent | undefined;
      if (event) found.push([event, (fn as AnyHandler).bind(instance)]);
    }
    p = Object.getPrototypeOf(p);
  }
  return found;
}

/**
 * The money event bus: `emit` runs every handler of the event, in order, in the caller's
 * transaction (`m`). In the app the handlers are discovered at start-up; `MoneyEvents.of`
 * wires them by hand (tests, benchmarks). Either way every event must have a handler.
 */
@Injectable()
export class MoneyEvents implements OnModuleInit {
  private readonly handlers = new Map<MoneyEvent, AnyHandler[]>();
  private ready = false;

  constructor(@Optional() private readonly discovery?: DiscoveryService) {}

  /** A bus with the given handler instances, checked complete. */
  static of(...instances: object[]): MoneyEvents {
    const bus = new MoneyEvents();
    bus.register(instances);
    return bus;
  }

  onModuleInit(): void {
    if (!this.discovery) throw new Error('MoneyEvents needs DiscoveryService in the app');
    const instances = this.discovery
      .getProviders({ metadataKey: MoneyEventHandler.KEY })
      .map((w) => w.instance as object | undefined)
      .filter((i): i is object => !!i);
    this.register(instances);
  }

  private register(instances: readonly object[]): void {
    for (const instance of instances) {
      for (const [event, fn] of handlersOf(instance)) {
        this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
      }
    }
    const missing = MONEY_EVENTS.filter((e) => !this.handlers.get(e)?.length);
    if (missing.length > 0) throw new MissingMoneyEventHandler(missing);
    this.ready = true;
  }

  /** Runs the event's handlers in the caller's transaction. */
  async emit<E extends MoneyEvent>(
    m: EntityManager,
    event: E,
    payload: MoneyEventMap[E],
  ): Promise<void> {
    if (!this.ready) throw new Error(`money event ${event} emitted before start-up`);
    for (const handler of this.handlers.get(event) ?? []) await handler(m, payload);
  }
}

/** Provides the bus; modules that emit money events import it. */
@Module({ imports: [DiscoveryModule], providers: [MoneyEvents], exports: [MoneyEvents] })
export class MoneyEventsModule {}
