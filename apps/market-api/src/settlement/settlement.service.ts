import { randomUUID } from 'node:crypto';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { LeaseEndReason, LeaseState, ResourceSpec } from '@suanli/contracts';
import { Money } from '@suanli/money';
import type { ComputeClass } from '@suanli/units';
import { wholeSecond } from '../common/clock.js';
import { LeaseEntity } from '../database/market.entities.js';
import { DebitNoteEntity, InvoiceEntity } from '../database/settlement.entities.js';
import { MoneyEvents } from '../events/money-events.js';
import { BidScheduler } from '../leases/bid-scheduler.service.js';
import { LeaseEventsService } from '../leases/lease-events.service.js';
import { LedgerService, PLATFORM_OWNER } from '../ledger/ledger.service.js';
import { currentRunId, withLease, withRun } from '../observability/correlation-context.js';
import { WalletService } from '../ledger/wallet.service.js';
import { EscrowService, isInsufficientFunds } from './escrow.service.js';
import { InvoicesService } from './invoices.service.js';
import {
  insertPeriodNotes,
  loadRatingInputs,
  ratePeriodOf,
  settleChunk,
  type ChunkLeaseNotes,
  type RatingInputs,
} from './period-batch.js';
import { periodMoney } from './period-money.js';
import { floorHour, nextPeriod } from './rating.js';
import { SettlementConfig } from './settlement.config.js';

export { debitNoteReference } from './period-money.js';

export interface SettlementRunResult {
  /** The run's own id: its log lines carry it as `runId`, and its debit notes record it. */
  runId: string;
  /** The last completed hour considered (floor_hour(now − lag)). */
  horizon: string;
  leases: number;
  debitNotes: number;
  /** Of those, the debit notes written by the batched (set-based) run. */
  batched: number;
  suspended: number;
  resumed: number;
  ended: number;
  invoices: number;
  failed: { leaseId: string; error: string }[];
}

/**
 * The log line of a lease's debit notes of one step or chunk (its lease, run and correlation ids
 * come from the scope).
 */
function debitNoteLine(n: {
  start: Date;
  end: Date;
  gross: string;
  currency: string;
  notes?: number;
}): string {
  const what = (n.notes ?? 1) > 1 ? `debit notes ×${n.notes}` : 'debit note';
  return `${what} ${n.start.toISOString()}–${n.end.toISOString()}: ${n.gross} ${n.currency}`;
}

/** Safety net: no lease takes more steps than this in one run (a year of hours and then some). */
const MAX_STEPS_PER_LEASE = 10_000;

/**
 * The settlement cycle (settlement.md): per lease and completed clock hour, one debit note
 * paid from the period's escrow, the rest released, the next period held (or the lease
 * suspended); ended leases get their final invoice. One DB transaction per step, under the
 * lease's row lock; every step is idempotent, so running again changes nothing.
 */
@Injectable()
export class SettlementService {
  private readonly log = new Logger('settlement');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly wallets: WalletService,
    private readonly escrow: EscrowService,
    private readonly invoices: InvoicesService,
    private readonly config: SettlementConfig,
    private readonly events: MoneyEvents,
    @Optional() private readonly leaseEvents?: LeaseEventsService,
    @Optional() private readonly bids?: BidScheduler,
  ) {}

  /**
   * Settles everything due at `now`, as the run `runId` (the current one, else a new id). Each
   * lease's work runs under its originating correlation id (`withLease`), so its log lines,
   * debit notes and lease events carry the id of the order request that created it.
   */
  async runDue(now: Date): Promise<SettlementRunResult> {
    const runId = currentRunId() ?? randomUUID();
    return withRun(runId, () => this.run(now, runId));
  }

  private async run(now: Date, runId: string): Promise<SettlementRunResult> {
    const horizon = floorHour(new Date(now.getTime() - this.config.lagMs));
    const result: SettlementRunResult = {
      runId,
      horizon: horizon.toISOString(),
      leases: 0,
      debitNotes: 0,
      batched: 0,
      suspended: 0,
      resumed: 0,
      ended: 0,
      invoices: 0,
      failed: [],
    };
    // The common case first, set-based per chunk of leases; the rest per lease below.
    if (this.config.batchSize > 0) await this.runBatches(now, horizon, result);
    const due: { id: string; correlationId: string | null }[] = await this.db.query(
      // Running leases with a completed period (settled_until before the horizon, which is an
      // hour boundary) or with every period settled; suspended ones; ended ones not invoiced.
      `SELECT l.id, l.correlation_id AS "correlationId" FROM leases l
       WHERE (l.state = 'active' AND l.starts_at <= $1
              AND (l.settled_until < $2 OR l.settled_until >= l.ends_at))
          OR l.state = 'suspended'
          OR (l.state = 'ended' AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.lease_id = l.id))
       ORDER BY l.id`,
      [now, horizon],
    );
    // SETTLEMENT_CONCURRENCY leases at a time; each lease's steps stay sequential. Concurrent
    // steps are safe for the same reasons two worker processes are: the lease row lock, accounts
    // locked in one stable order, and idempotent references.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length) {
        const lease = due[next];
        const { id } = lease;
        next += 1;
        result.leases += 1;
        await withLease(lease, async () => {
          try {
            for (let step = 0; step < MAX_STEPS_PER_LEASE; step += 1) {
              const progressed = await this.db.transaction((m) =>
                this.step(m, id, now, horizon, result),
              );
              if (!progressed) break;
            }
          } catch (e) {
            const error = e instanceof Error ? e.message : String(e);
            this.log.error(`lease ${id}: settlement failed: ${error}`);
            result.failed.push({ leaseId: id, error });
          }
        });
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.config.concurrency, Math.max(1, due.length)) }, worker),
    );
    // Interruptible offers: capacity freed by leases that ended goes to paused bids.
    if (this.bids && result.ended > 0) await this.bids.sweep(this.db, now);
    return result;
  }

  /**
   * The batched run (period-batch.ts): chunks of `batchSize` leases, every due period of each
   * in one transaction, SETTLEMENT_CONCURRENCY chunks at once (SKIP LOCKED gives each worker
   * other leases), until no due lease is left. Leases the batch leaves alone are settled per
   * lease afterwards.
   */
  private async runBatches(now: Date, horizon: Date, result: SettlementRunResult): Promise<void> {
    const deferred = new Set<string>();
    const touched = new Set<string>();
    const worker = async (): Promise<void> => {
      for (;;) {
        const chunk = await this.db.transaction((m) =>
          settleChunk(
            m,
            { ledger: this.ledger, events: this.events },
            {
              now,
              horizon,
              exclude: [...deferred],
              limit: this.config.batchSize,
              runId: result.runId,
            },
          ),
        );
        if (chunk.error) this.log.warn(`batched chunk left to the per-lease step: ${chunk.error}`);
        for (const n of chunk.byLease) this.logNotes(n);
        for (const id of chunk.deferred) deferred.add(id);
        for (const id of chunk.settled) touched.add(id);
        // Safety net: a lease the chunk looked at and neither settled nor left is not taken again.
        const settled = new Set(chunk.settled);
        for (const id of chunk.seen) if (!settled.has(id)) deferred.add(id);
        result.debitNotes += chunk.notes;
        result.batched += chunk.notes;
        if (chunk.seen.length === 0) break;
      }
    };
    await Promise.all(Array.from({ length: this.config.concurrency }, worker));
    result.leases += touched.size;
  }

  private logNotes(n: ChunkLeaseNotes): void {
    withLease({ id: n.leaseId, correlationId: n.correlationId }, () =>
      this.log.log(debitNoteLine(n)),
    );
  }

  /** One step for one lease in the caller's transaction; true when there may be more to do. */
  private async step(
    m: EntityManager,
    id: string,
    now: Date,
    horizon: Date,
    result: SettlementRunResult,
  ): Promise<boolean> {
    const lease = await m.findOne(LeaseEntity, {
      where: { id },
      lock: { mode: 'pessimistic_write' },
    });
    if (!lease) return false;
    switch (lease.state) {
      // Not billed before access works (docs/delivery.md); a failed provisioning bills nothing.
      case 'pending':
      case 'provisioning':
      case 'provisioning_failed':
        return false;
      case 'active': {
        if (lease.startsAt.getTime() > now.getTime()) return false;
        const period = nextPeriod(lease.settledUntil, lease.endsAt);
        if (period) {
          if (period.end.getTime() > horizon.getTime()) return false;
          await this.settlePeriod(m, lease, period, true, result);
          return true;
        }
        // Every period up to ends_at is settled (so now ≥ ends_at): the lease is complete.
        await this.finish(m, lease, 'completed', lease.endsAt, now, result);
        return false;
      }
      case 'suspended':
        return this.stepSuspended(m, lease, now, result);
      case 'ended': {
        // Ended elsewhere (cancelled, terminated, ...): settle up to ended_at, then invoice.
        const end = lease.endedAt && lease.endedAt < lease.endsAt ? lease.endedAt : lease.endsAt;
        const period = nextPeriod(lease.settledUntil, end);
        if (period) {
          if (period.end.getTime() > horizon.getTime()) return false;
          await this.settlePeriod(m, lease, period, false, result);
          return true;
        }
        // Another worker may have invoiced it between our query and this row lock.
        if (await m.existsBy(InvoiceEntity, { leaseId: lease.id })) return false;
        await this.lockLeaseAccounts(m, lease);
        await this.releaseRemaining(m, lease);
        await this.invoices.issue(m, lease, now);
        await this.leaseEvents?.record(m, lease, 'lease.ended');
        result.invoices += 1;
        return false;
      }
    }
  }

  /**
   * Rates the period and settles its money in one posting (`periodMoney`): the note paid from
   * the period's hold, any excess from available (what even that cannot cover is owed), the rest
   * of the hold released and the next period's held, or the lease suspended. Exactly what the
   * batched run writes for the period.
   */
  private async settlePeriod(
    m: EntityManager,
    lease: LeaseEntity,
    period: { start: Date; end: Date },
    continuing: boolean,
    result: SettlementRunResult,
  ): Promise<void> {
    const buyer = lease.buyerOrgId;
    const cur = lease.currency;
    // Every account this step touches, locked up front in the ledger's one stable order.
    const availableAccount = { ownerKey: buyer, kind: 'wallet_available' as const, currency: cur };
    await this.ledger.lockAccounts(m, [
      availableAccount,
      { ownerKey: buyer, kind: 'wallet_held', currency: cur },
      { ownerKey: buyer, kind: 'buyer_receivable', currency: cur },
      { ownerKey: lease.sellerOrgId, kind: 'seller_payable', currency: cur },
      { ownerKey: PLATFORM_OWNER, kind: 'platform_revenue', currency: cur },
    ]);
    const already = await m.existsBy(DebitNoteEntity, {
      leaseId: lease.id,
      kind: 'period',
      periodStart: period.start,
    });
    if (already) {
      // Its posting moved the escrow already; only the lease is behind.
      await m.update(LeaseEntity, { id: lease.id }, { settledUntil: period.end });
      return;
    }
    const inputs = (await loadRatingInputs(m, [lease])).get(lease.id) as RatingInputs;
    const rated = ratePeriodOf(lease, period, inputs);
    const ends = !continuing || period.end.getTime() >= lease.endsAt.getTime();
    const money = periodMoney({
      lease,
      period,
      rated,
      held: Money.of(lease.escrowHeld, cur),
      available: Money.of(await this.ledger.balanceOf(m, availableAccount), cur),
      nextHold: ends ? null : await this.holdAmount(m, lease),
    });
    const transactionId = randomUUID();
    const records = await insertPeriodNotes(
      m,
      [
        {
          id: randomUUID(),
          leaseId: lease.id,
          start: period.start,
          end: period.end,
          currency: cur,
          rated,
          transactionId,
          correlationId: lease.correlationId,
        },
      ],
      () => lease,
      currentRunId() ?? null,
    );
    await this.events.emit(m, 'debit-notes.issued', { notes: records });
    await this.ledger.post(m, { ...money.posting, id: transactionId });
    result.debitNotes += 1;
    this.log.log(debitNoteLine({ ...period, gross: rated.gross, currency: cur }));

    let state: LeaseState = lease.state;
    if (money.suspend) {
      state = 'suspended';
      result.suspended += 1;
      this.log.warn(
        `lease ${lease.id} suspended at ${period.end.toISOString()}: ${
          money.suspend === 'owes'
            ? 'usage beyond escrow unpaid'
            : "wallet can't cover the next hold"
        }`,
      );
    }
    await m.update(
      LeaseEntity,
      { id: lease.id },
      { settledUntil: period.end, state, escrowHeld: money.heldAfter.toString() },
    );
    if (state === 'suspended' && lease.state !== 'suspended') {
      await this.leaseEvents?.record(m, lease, 'lease.suspended');
    }
  }

  /**
   * A suspended lease (settled_until = when its hold could not be taken) resumes once the
   * wallet covers a hold; after the grace period (counted from when the suspension could first
   * have been decided: settled_until + lag) or at ends_at it ends with insufficient_funds.
   * Suspended time is never billed.
   */
  private async stepSuspended(
    m: EntityManager,
    lease: LeaseEntity,
    now: Date,
    result: SettlementRunResult,
  ): Promise<boolean> {
    const deadline = lease.settledUntil.getTime() + this.config.lagMs + this.config.graceMs;
    const stop = new Date(Math.min(deadline, lease.endsAt.getTime()));
    if (now.getTime() < stop.getTime()) {
      // Resume from the current whole second; the suspended stretch is skipped, not billed.
      const from = new Date(Math.max(lease.settledUntil.getTime(), wholeSecond(now).getTime()));
      // Whatever the buyer owes is paid first; it resumes only when nothing is owed.
      await this.wallets.collectReceivable(m, lease.buyerOrgId, lease.currency);
      if ((await this.wallets.owed(m, lease.buyerOrgId, lease.currency)).isPositive()) return false;
      try {
        await this.escrow.takeHold(m, lease, from, await this.holdAmount(m, lease));
      } catch (e) {
        if (isInsufficientFunds(e)) return false;
        throw e;
      }
      await m.update(LeaseEntity, { id: lease.id }, { settledUntil: from, state: 'active' });
      await this.leaseEvents?.record(m, lease, 'lease.resumed');
      result.resumed += 1;
      this.log.log(`lease ${lease.id} resumed at ${from.toISOString()}`);
      return true;
    }
    lease.settledUntil = stop;
    await m.update(LeaseEntity, { id: lease.id }, { settledUntil: stop });
    await this.finish(m, lease, 'insufficient_funds', stop, now, result);
    return false;
  }

  /** Ends the lease, releases whatever is still held for it and issues its invoice. */
  private async finish(
    m: EntityManager,
    lease: LeaseEntity,
    reason: LeaseEndReason,
    endedAt: Date,
    now: Date,
    result: SettlementRunResult,
  ): Promise<void> {
    await m.update(LeaseEntity, { id: lease.id }, { state: 'ended', endedAt, endReason: reason });
    Object.assign(lease, { state: 'ended', endedAt, endReason: reason });
    await this.lockLeaseAccounts(m, lease);
    await this.releaseRemaining(m, lease);
    await this.invoices.issue(m, lease, now);
    await this.leaseEvents?.record(m, lease, 'lease.ended');
    result.ended += 1;
    result.invoices += 1;
    this.log.log(`lease ${lease.id} ended (${reason})`);
  }

  /**
   * Row-locks every account that ending and invoicing the lease touches, in the ledger's one
   * stable order, before the first posting (the release, the SLA credit and its payment).
   */
  private async lockLeaseAccounts(m: EntityManager, lease: LeaseEntity): Promise<void> {
    const cur = lease.currency;
    await this.ledger.lockAccounts(m, [
      { ownerKey: lease.buyerOrgId, kind: 'wallet_available', currency: cur },
      { ownerKey: lease.buyerOrgId, kind: 'wallet_held', currency: cur },
      { ownerKey: lease.buyerOrgId, kind: 'buyer_receivable', currency: cur },
      { ownerKey: lease.sellerOrgId, kind: 'seller_payable', currency: cur },
      { ownerKey: PLATFORM_OWNER, kind: 'platform_revenue', currency: cur },
      { ownerKey: PLATFORM_OWNER, kind: 'sla_credits', currency: cur },
    ]);
  }

  /** Releases what is still held for the lease (a hold no note will pay). */
  private async releaseRemaining(m: EntityManager, lease: LeaseEntity): Promise<void> {
    await this.escrow.release(
      m,
      lease,
      lease.settledUntil,
      Money.of(lease.escrowHeld, lease.currency),
    );
  }

  private async holdAmount(m: EntityManager, lease: LeaseEntity): Promise<Money> {
    const rows: { spec: ResourceSpec; class: ComputeClass }[] = await m.query(
      'SELECT spec, class FROM resources WHERE id = $1',
      [lease.resourceId],
    );
    if (rows.length === 0)
      throw new Error(`resource ${lease.resourceId} of lease ${lease.id} not found`);
    return this.escrow.holdAmount(lease, { spec: rows[0].spec, computeClass: rows[0].class });
  }
}
