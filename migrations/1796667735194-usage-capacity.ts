import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The capacity rule's state per lease and minute (docs/decisions.md, "Usage never exceeds what
 * the lease can deliver"). Minutes applied before it have no row: nothing is known of their
 * windows' raw quantities (usage_events keeps none), so the rule starts from what comes next.
 */
export class UsageCapacity1796667735194 implements MigrationInterface {
  name = 'UsageCapacity1796667735194';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "usage_capacity" ("lease_id" uuid NOT NULL, "bucket" TIMESTAMP WITH TIME ZONE NOT NULL, "covered" integer array NOT NULL, "cpu_core_s" numeric, "mem_gib_s" numeric, "acc_s" numeric, "sto_gib_s" numeric, "egress_bytes" numeric, CONSTRAINT "PK_db1209956aba587ba598a3bc44a" PRIMARY KEY ("lease_id", "bucket"))',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "usage_capacity"');
  }
}
