import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The catalog version the exchange rated an unsigned event without units with (docs/decisions.md, "CloudEvents over HTTP"). */
export class UsageEventsRatedCatalog1796673752713 implements MigrationInterface {
  name = 'UsageEventsRatedCatalog1796673752713';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "usage_events" ADD "rated_catalog" text');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "usage_events" DROP COLUMN "rated_catalog"');
  }
}
