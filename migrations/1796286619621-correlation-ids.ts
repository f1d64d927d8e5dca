import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CorrelationIds1796286619621 implements MigrationInterface {
  name = 'CorrelationIds1796286619621';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "leases" ADD "correlation_id" text');
    await queryRunner.query('ALTER TABLE "metering_leases" ADD "correlation_id" text');
    await queryRunner.query('ALTER TABLE "debit_notes" ADD "correlation_id" text');
    await queryRunner.query('ALTER TABLE "debit_notes" ADD "settlement_run_id" text');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "debit_notes" DROP COLUMN "settlement_run_id"');
    await queryRunner.query('ALTER TABLE "debit_notes" DROP COLUMN "correlation_id"');
    await queryRunner.query('ALTER TABLE "metering_leases" DROP COLUMN "correlation_id"');
    await queryRunner.query('ALTER TABLE "leases" DROP COLUMN "correlation_id"');
  }
}
