import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `uq_debit_note_period` becomes (lease_id, kind, period_start), as the entity declares: the
 * migration that added `kind` left it on (lease_id, period_start), so a reserved lease's first
 * period collided with its prepaid block's note (which starts with the lease) and the lease was
 * never settled again. Leases stuck that way settle on the next run after this migration.
 */
export class DebitNotePeriodUnique1796664909171 implements MigrationInterface {
  name = 'DebitNotePeriodUnique1796664909171';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "debit_notes" DROP CONSTRAINT "uq_debit_note_period"');
    await queryRunner.query(
      'ALTER TABLE "debit_notes" ADD CONSTRAINT "uq_debit_note_period" UNIQUE ("lease_id", "kind", "period_start")',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Fails if a reserved lease has settled its first period since (two notes share a start).
    await queryRunner.query('ALTER TABLE "debit_notes" DROP CONSTRAINT "uq_debit_note_period"');
    await queryRunner.query(
      'ALTER TABLE "debit_notes" ADD CONSTRAINT "uq_debit_note_period" UNIQUE ("lease_id", "period_start")',
    );
  }
}
