import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TopUpIdempotencyKey1796634600129 implements MigrationInterface {
  name = 'TopUpIdempotencyKey1796634600129';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "top_ups" ADD "idempotency_key" text');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_f7ce31b43d16a354f84750e0b0" ON "top_ups"  ("org_id", "idempotency_key") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_f7ce31b43d16a354f84750e0b0"');
    await queryRunner.query('ALTER TABLE "top_ups" DROP COLUMN "idempotency_key"');
  }
}
