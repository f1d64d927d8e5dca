import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OfferModelsSlaInterruptions1795864700000 implements MigrationInterface {
  name = 'OfferModelsSlaInterruptions1795864700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "lease_interruptions" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "lease_id" uuid NOT NULL, "offer_id" uuid NOT NULL, "paused_at" TIMESTAMP WITH TIME ZONE NOT NULL, "pause_reason" text NOT NULL, "pause_details" jsonb NOT NULL DEFAULT \'{}\', "resumed_at" TIMESTAMP WITH TIME ZONE, "resume_reason" text, CONSTRAINT "PK_6037cf9a703c60ee35ca39d51e0" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_4de703d94f6ec23a1e1898b482" ON "lease_interruptions"  ("offer_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_eeb5667ce78545561c6c3e8eed" ON "lease_interruptions"  ("lease_id", "paused_at") ',
    );
    await queryRunner.query('ALTER TABLE "offers" ADD "available_from" TIMESTAMP WITH TIME ZONE');
    await queryRunner.query('ALTER TABLE "offers" ADD "available_until" TIMESTAMP WITH TIME ZONE');
    await queryRunner.query('ALTER TABLE "offers" ADD "sla" jsonb');
    await queryRunner.query('ALTER TABLE "orders" ADD "bid" numeric(38,9)');
    await queryRunner.query('ALTER TABLE "leases" ADD "bid" numeric(38,9)');
    await queryRunner.query('ALTER TABLE "leases" ADD "paused_at" TIMESTAMP WITH TIME ZONE');
    await queryRunner.query('ALTER TABLE "stripe_movements" ADD "top_up_id" uuid');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "stripe_movements" DROP COLUMN "top_up_id"');
    await queryRunner.query('ALTER TABLE "leases" DROP COLUMN "paused_at"');
    await queryRunner.query('ALTER TABLE "leases" DROP COLUMN "bid"');
    await queryRunner.query('ALTER TABLE "orders" DROP COLUMN "bid"');
    await queryRunner.query('ALTER TABLE "offers" DROP COLUMN "sla"');
    await queryRunner.query('ALTER TABLE "offers" DROP COLUMN "available_until"');
    await queryRunner.query('ALTER TABLE "offers" DROP COLUMN "available_from"');
    await queryRunner.query('DROP INDEX "public"."IDX_eeb5667ce78545561c6c3e8eed"');
    await queryRunner.query('DROP INDEX "public"."IDX_4de703d94f6ec23a1e1898b482"');
    await queryRunner.query('DROP TABLE "lease_interruptions"');
  }
}
