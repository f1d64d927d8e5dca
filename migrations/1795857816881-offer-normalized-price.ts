import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OfferNormalizedPrice1795857816881 implements MigrationInterface {
  name = 'OfferNormalizedPrice1795857816881';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "offers" ADD "normalized_unit" text');
    await queryRunner.query('ALTER TABLE "offers" ADD "normalized_price" numeric(38,9)');
    await queryRunner.query(
      'ALTER TABLE "offers" ADD "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_5782a37287b137cb6c3230b31f" ON "offers"  ("normalized_price") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_5782a37287b137cb6c3230b31f"');
    await queryRunner.query('ALTER TABLE "offers" DROP COLUMN "updated_at"');
    await queryRunner.query('ALTER TABLE "offers" DROP COLUMN "normalized_price"');
    await queryRunner.query('ALTER TABLE "offers" DROP COLUMN "normalized_unit"');
  }
}
