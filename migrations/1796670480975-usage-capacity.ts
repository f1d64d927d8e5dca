import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The capacity rule's state on each lease-minute row of `usage_minutes` (docs/decisions.md,
 * "Usage never exceeds what the lease can deliver"): the covered milliseconds and the exact sums
 * per quantity. Minutes applied before it have none (NULL): nothing is known of their windows'
 * raw quantities (usage_events keeps none), so the rule starts from what comes next.
 */
export class UsageCapacity1796670480975 implements MigrationInterface {
  name = 'UsageCapacity1796670480975';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "usage_minutes" ADD "covered" integer array');
    await queryRunner.query('ALTER TABLE "usage_minutes" ADD "cpu_core_s" numeric');
    await queryRunner.query('ALTER TABLE "usage_minutes" ADD "mem_gib_s" numeric');
    await queryRunner.query('ALTER TABLE "usage_minutes" ADD "acc_s" numeric');
    await queryRunner.query('ALTER TABLE "usage_minutes" ADD "sto_gib_s" numeric');
    await queryRunner.query('ALTER TABLE "usage_minutes" ADD "egress_bytes" numeric');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "usage_minutes" DROP COLUMN "egress_bytes"');
    await queryRunner.query('ALTER TABLE "usage_minutes" DROP COLUMN "sto_gib_s"');
    await queryRunner.query('ALTER TABLE "usage_minutes" DROP COLUMN "acc_s"');
    await queryRunner.query('ALTER TABLE "usage_minutes" DROP COLUMN "mem_gib_s"');
    await queryRunner.query('ALTER TABLE "usage_minutes" DROP COLUMN "cpu_core_s"');
    await queryRunner.query('ALTER TABLE "usage_minutes" DROP COLUMN "covered"');
  }
}
