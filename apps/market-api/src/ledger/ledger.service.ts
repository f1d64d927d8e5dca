import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Decimal, Money, MoneyError, assertCurrency, parseDecimal } from '@suanli/money';
import { DomainError } from '../common/errors.js';
import { ACCOUNT_KINDS, type AccountKind } from '../database/settlement.entities.js';

/** The owner key of the platform's own accounts (revenue, clearing, test funding). */
export const PLATFORM_OWNER = 'platform';

/** Account kinds that hold a customer's money: their balance may never go below zero. */
const NON_NEGATIVE_KINDS: ReadonlySet<AccountKind> = new Set(['wallet_available', 'wallet_held']);

/** Amounts are stored as numeric(38, 9). */
const MAX_SCALE = 9;

export interface AccountKey {
  /** An organization id, or {@link PLATFORM_OWNER}. */
  ownerKey: string;
  kind: AccountKind;
  currency: string;
}

export interface LedgerEntryInput extends AccountKey {
  /** Signed decimal string: positive adds value to the account, negative takes it away. */
  amount: string;
}

export interface LedgerPosting {
  /**
   * The transaction's id, when the caller chose it (to refer to it from rows written before the
   * posting, in the same transaction); a new one otherwise.
   */
  id?: string;
  /** What kind of movement this is (`wallet_credit`, `escrow_hold`, `debit_note`, ...). */
  kind: string;
  /** Unique for ever: posting the same reference again is a no-op. */
  reference: string;
  memo?: string;
  entries: LedgerEntryInput[];
}

export interface PostResult {
  transactionId: string;
  /** True when the reference had been posted before: nothing changed. */
  duplicate: boolean;
}

export interface AccountBalance {
  kind: AccountKind;
  currency: string;
  balance: string;
}

export interface TrialBalance {
  /** True when, for every currency, entries and account balances both sum to zero. */
  balanced: boolean;
  currencies: { currency: string; entries: string; balances: string }[];
}

export interface LockedAccount {
  id: string;
  owner_key: string;
  kind: AccountKind;
  currency: string;
  balance: string;
}

/** Thrown for a malformed posting: a programming error, never a client's. */
export class LedgerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerError';
  }
}

const keyOf = (k: AccountKey): string => `${k.ownerKey}\u0000${k.kind}\u0000${k.currency}`;

/** The one stable order every transaction locks accounts in (matches `COLLATE "C"`). */
const compareKeys = (a: AccountKey, b: AccountKey): number => {
  const x = keyOf(a);
  const y = keyOf(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * The double-entry ledger. Every posting sums to zero per currency, is idempotent on its
 * reference, and updates the accounts' running balances in the caller's transaction with the
 * accounts row-locked in one stable order (owner, kind, currency), so postings never deadlock
 * each other.
 */
@Injectable()
export class LedgerService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Posts `posting` inside the caller's transaction (`manager`): `postMany` with one posting. A
   * reference posted before returns its first transaction with `duplicate: true` and changes
   * nothing. Throws `DomainError('insufficient_funds')` before writing anything when a wallet
   * account would go below zero, so a caller may catch it and carry on in the same transaction.
   */
  async post(manager: EntityManager, posting: LedgerPosting): Promise<PostResult> {
    const [result] = await this.postMany(manager, [posting]);
    return result;
  }

  /**
   * The one way ledger rows are written (docs/decisions.md, "One ledger path"): posts every
   * posting in the caller's transaction with a fixed number of statements whatever their
   * number — their references looked up at once, every account they touch created if need be
   * and row-locked once in the stable order, the wallets' balances checked, then the
   * transactions, entries and balance updates each one multi-row statement. Each posting is
   * checked to sum to zero per currency; a reference posted before is a duplicate (nothing
   * changes for it). Throws `DomainError('insufficient_funds')` before writing anything when a
   * wallet account would go below zero after all the postings. Results are in input order.
   */
  async postMany(
    manager: EntityManager,
    postings: readonly LedgerPosting[],
  ): Promise<PostResult[]> {
    if (postings.length === 0) return [];
    const checked = postings.map((p) => ({ posting: p, deltas: validate(p) }));
    const references = postings.map((p) => p.reference);
    if (new Set(references).size !== references.length) {
      throw new LedgerError('a reference appears twice in one postMany');
    }
    const before = await this.transactionIds(manager, references);
    const fresh = checked.filter((c) => !before.has(c.posting.reference));
    const results = (): PostResult[] =>
      postings.map((p) => {
        const old = before.get(p.reference);
        return old
          ? { transactionId: old, duplicate: true }
          : { transactionId: ids.get(p.reference) as string, duplicate: false };
      });
    const ids = new Map(fresh.map((c) => [c.posting.reference, c.posting.id ?? randomUUID()]));
    if (fresh.length === 0) return results();

    // The net change of every account over all the postings.
    const net = new Map<string, { key: AccountKey; delta: Decimal }>();
    for (const { deltas } of fresh) {
      for (const [k, d] of deltas) {
        const slot = net.get(k) ?? { key: d.key, delta: new Decimal(0) };
        slot.delta = slot.delta.plus(d.delta);
        net.set(k, slot);
      }
    }
    const locked = await this.lockAccounts(
      manager,
      [...net.values()].map((d) => d.key),
    );
    for (const { key, delta } of net.values()) {
      const account = locked.get(keyOf(key)) as LockedAccount;
      const after = new Decimal(account.balance).plus(delta);
      if (NON_NEGATIVE_KINDS.has(key.kind) && after.isNegative()) {
        throw new DomainError(
          'insufficient_funds',
          `the wallet's ${key.kind === 'wallet_held' ? 'escrow' : 'available'} ${key.currency} balance is too low`,
          422,
          {
            currency: key.currency,
            account: key.kind,
            shortBy: Money.of(after.negated(), key.currency).roundUp().toString(),
          },
        );
      }
    }

    const inserted: { reference: string }[] = await manager.query(
      `INSERT INTO ledger_transactions (id, kind, reference, memo)
       SELECT x.i, x.k, x.r, x.m FROM json_to_recordset($1::json) AS x(i uuid, k text, r text, m text)
       ON CONFLICT (reference) DO NOTHING RETURNING reference`,
      [
        JSON.stringify(
          fresh.map((c) => ({
            i: ids.get(c.posting.reference),
            k: c.posting.kind,
            r: c.posting.reference,
            m: c.posting.memo ?? '',
          })),
        ),
      ],
    );
    if (inserted.length !== fresh.length) {
      // Posted concurrently by a transaction that committed after our look: nothing of ours
      // may be written then (the balances were computed with those postings).
      if (inserted.length === 0 && fresh.length === 1) {
        const id = await this.transactionIdOf(manager, fresh[0].posting.reference);
        if (!id) throw new LedgerError(`reference ${fresh[0].posting.reference} vanished`);
        before.set(fresh[0].posting.reference, id);
        return results();
      }
      throw new LedgerError('a reference was posted concurrently; post again');
    }

    const entries: { t: string; a: string; c: string; v: string }[] = [];
    for (const { posting } of fresh) {
      for (const e of posting.entries) {
        entries.push({
          t: ids.get(posting.reference) as string,
          a: (locked.get(keyOf(e)) as LockedAccount).id,
          c: e.currency,
          v: parseDecimal(e.amount).toFixed(),
        });
      }
    }
    if (entries.length > 0) {
      // One JSON parameter for all the rows (cheaper than one pg array literal per column).
      await manager.query(
        `INSERT INTO ledger_entries (transaction_id, account_id, currency, amount)
         SELECT x.t, x.a, x.c, x.v FROM json_to_recordset($1::json) AS x(t uuid, a uuid, c text, v numeric)`,
        [JSON.stringify(entries)],
      );
    }
    const changed = [...net.values()].filter((d) => !d.delta.isZero());
    if (changed.length > 0) {
      await manager.query(
        `UPDATE ledger_accounts AS a SET balance = a.balance + v.delta
         FROM unnest($1::uuid[], $2::numeric[]) AS v(id, delta) WHERE a.id = v.id`,
        [
          changed.map((d) => (locked.get(keyOf(d.key)) as LockedAccount).id),
          changed.map((d) => d.delta.toFixed()),
        ],
      );
    }
    return results();
  }

  /** The transactions posted under `references`, by reference. */
  private async transactionIds(
    manager: EntityManager,
    references: readonly string[],
  ): Promise<Map<string, string>> {
    const rows: { id: string; reference: string }[] = await manager.query(
      'SELECT id, reference FROM ledger_transactions WHERE reference = ANY($1::text[])',
      [references],
    );
    return new Map(rows.map((r) => [r.reference, r.id]));
  }

  /**
   * Creates the accounts that do not exist yet and row-locks all of them (FOR UPDATE) in the
   * stable (owner, kind, currency) order. A transaction that will post several times calls this
   * first with every account it will touch, so that its locks, too, are taken in one order.
   */
  async lockAccounts(
    manager: EntityManager,
    keys: readonly AccountKey[],
  ): Promise<Map<string, LockedAccount>> {
    const unique = [...new Map(keys.map((k) => [keyOf(k), k])).values()].sort(compareKeys);
    const out = new Map<string, LockedAccount>();
    if (unique.length === 0) return out;
    const params: string[] = [];
    const tuples = unique.map((k) => {
      params.push(k.ownerKey, k.kind, k.currency);
      const n = params.length;
      return `($${n - 2}, $${n - 1}, $${n})`;
    });
    await manager.query(
      `INSERT INTO ledger_accounts (owner_key, kind, currency) VALUES ${tuples.join(', ')}
       ON CONFLICT ON CONSTRAINT uq_ledger_account DO NOTHING`,
      params,
    );
    const rows: LockedAccount[] = await manager.query(
      `SELECT id, owner_key, kind, currency, balance::text AS balance FROM ledger_accounts
       WHERE (owner_key, kind, currency) IN (${tuples.join(', ')})
       ORDER BY owner_key COLLATE "C", kind COLLATE "C", currency COLLATE "C"
       FOR UPDATE`,
      params,
    );
    for (const r of rows) {
      out.set(keyOf({ ownerKey: r.owner_key, kind: r.kind, currency: r.currency }), r);
    }
    if (out.size !== unique.length) throw new LedgerError('could not lock every account');
    return out;
  }

  /** The id of the transaction posted under `reference`, or null. */
  async transactionIdOf(manager: EntityManager, reference: string): Promise<string | null> {
    const rows: { id: string }[] = await manager.query(
      'SELECT id FROM ledger_transactions WHERE reference = $1',
      [reference],
    );
    return rows[0]?.id ?? null;
  }

  /**
   * What the transaction posted under `reference` moved into `account` (a signed decimal
   * string; "0" when it did not touch the account or does not exist).
   */
  async amountPosted(
    manager: EntityManager,
    reference: string,
    account: AccountKey,
  ): Promise<string> {
    const rows: { total: string | null }[] = await manager.query(
      `SELECT SUM(e.amount)::text AS total FROM ledger_entries e
       JOIN ledger_transactions t ON t.id = e.transaction_id
       JOIN ledger_accounts a ON a.id = e.account_id
       WHERE t.reference = $1 AND a.owner_key = $2 AND a.kind = $3 AND a.currency = $4`,
      [reference, account.ownerKey, account.kind, account.currency],
    );
    return new Decimal(rows[0]?.total ?? '0').toFixed();
  }

  /** The running balance of one account ("0" when it does not exist yet). */
  async balanceOf(manager: EntityManager, key: AccountKey): Promise<string> {
    const rows: { balance: string }[] = await manager.query(
      `SELECT balance::text AS balance FROM ledger_accounts
       WHERE owner_key = $1 AND kind = $2 AND currency = $3`,
      [key.ownerKey, key.kind, key.currency],
    );
    return new Decimal(rows[0]?.balance ?? '0').toFixed();
  }

  /** Every account of `ownerKey` with its running balance, by currency then kind. */
  async balances(
    ownerKey: string,
    manager: EntityManager = this.db.manager,
  ): Promise<AccountBalance[]> {
    const rows: { kind: AccountKind; currency: string; balance: string }[] = await manager.query(
      `SELECT kind, currency, balance::text AS balance FROM ledger_accounts
       WHERE owner_key = $1 ORDER BY currency, kind`,
      [ownerKey],
    );
    return rows.map((r) => ({
      kind: r.kind,
      currency: r.currency,
      balance: Money.of(r.balance, r.currency).toString(),
    }));
  }

  /** Σ of all entries and Σ of all account balances per currency: both must be zero. */
  async trialBalance(manager: EntityManager = this.db.manager): Promise<TrialBalance> {
    const rows: { currency: string; entries: string | null; balances: string | null }[] =
      await manager.query(
        `SELECT c.currency,
                (SELECT SUM(amount)::text FROM ledger_entries e WHERE e.currency = c.currency) AS entries,
                (SELECT SUM(balance)::text FROM ledger_accounts a WHERE a.currency = c.currency) AS balances
         FROM (SELECT DISTINCT currency FROM ledger_accounts) c ORDER BY c.currency`,
      );
    const currencies = rows.map((r) => ({
      currency: r.currency,
      entries: Money.of(r.entries ?? '0', r.currency).toString(),
      balances: Money.of(r.balances ?? '0', r.currency).toString(),
    }));
    const balanced = rows.every(
      (r) => new Decimal(r.entries ?? '0').isZero() && new Decimal(r.balances ?? '0').isZero(),
    );
    return { balanced, currencies };
  }
}

/** Checks a posting and returns the net change per account. */
function validate(posting: LedgerPosting): Map<string, { key: AccountKey; delta: Decimal }> {
  if (typeof posting.reference !== 'string' || posting.reference.length === 0) {
    throw new LedgerError('a posting needs a reference');
  }
  if (typeof posting.kind !== 'string' || posting.kind.length === 0) {
    throw new LedgerError('a posting needs a kind');
  }
  const sums = new Map<string, Decimal>();
  const deltas = new Map<string, { key: AccountKey; delta: Decimal }>();
  for (const e of posting.entries) {
    if (!(ACCOUNT_KINDS as readonly string[]).includes(e.kind)) {
      throw new LedgerError(`unknown account kind ${JSON.stringify(e.kind)}`);
    }
    if (typeof e.ownerKey !== 'string' || e.ownerKey.length === 0) {
      throw new LedgerError('an entry needs an owner key');
    }
    let amount: Decimal;
    try {
      assertCurrency(e.currency);
      amount = parseDecimal(e.amount);
    } catch (err) {
      if (err instanceof MoneyError) throw new LedgerError(`${posting.reference}: ${err.message}`);
      throw err;
    }
    if (amount.decimalPlaces() > MAX_SCALE || !Money.of(amount, e.currency).isAtMinorPrecision()) {
      throw new LedgerError(
        `${posting.reference}: ${e.amount} ${e.currency} is below the currency's minor unit`,
      );
    }
    sums.set(e.currency, (sums.get(e.currency) ?? new Decimal(0)).plus(amount));
    const key: AccountKey = { ownerKey: e.ownerKey, kind: e.kind, currency: e.currency };
    const k = keyOf(key);
    deltas.set(k, { key, delta: (deltas.get(k)?.delta ?? new Decimal(0)).plus(amount) });
  }
  for (const [currency, sum] of sums) {
    if (!sum.isZero()) {
      throw new LedgerError(
        `${posting.reference}: entries sum to ${sum.toFixed()} ${currency}, not zero`,
      );
    }
  }
  return deltas;
}
