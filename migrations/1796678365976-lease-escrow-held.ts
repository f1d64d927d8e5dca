import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `leases.escrow_held`: what the wallet holds for the lease's open period. A settled period's
 * debit note now moves the escrow in its own posting (docs/decisions.md, "One ledger path"),
 * so the hold is no longer found by its `escrow-hold:<lease>:<period start>` reference.
 * Existing leases get what that reference (less its release) holds for their open period.
 */
export class LeaseEscrowHeld1796678365976 implements MigrationInterface {
  name = 'LeaseEscrowHeld1796678365976';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "leases" ADD "escrow_held" numeric(38,9) NOT NULL DEFAULT \'0\'',
    );
    await queryRunner.query(
      `WITH open AS (
         SELECT id, to_char(settled_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS iso
           FROM leases),
       held AS (
         SELECT o.id, sum(e.amount) AS amount
           FROM open o
           JOIN ledger_transactions t
             ON t.reference IN ('escrow-hold:' || o.id || ':' || o.iso,
                                'escrow-release:' || o.id || ':' || o.iso)
           JOIN ledger_entries e ON e.transaction_id = t.id
           JOIN ledger_accounts a ON a.id = e.account_id AND a.kind = 'wallet_held'
          GROUP BY o.id)
       UPDATE leases l SET escrow_held = held.amount FROM held
        WHERE held.id = l.id AND held.amount <> 0`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "leases" DROP COLUMN "escrow_held"');
  }
}
