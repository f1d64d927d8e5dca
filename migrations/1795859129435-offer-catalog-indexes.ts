import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OfferCatalogIndexes1795859129435 implements MigrationInterface {
  name = 'OfferCatalogIndexes1795859129435';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_5782a37287b137cb6c3230b31f"');
    await queryRunner.query(
      'CREATE INDEX "idx_offers_catalog_price" ON "offers"  ("status", "normalized_price", "id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_offers_catalog_newest" ON "offers"  ("status", "created_at", "id") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."idx_offers_catalog_newest"');
    await queryRunner.query('DROP INDEX "public"."idx_offers_catalog_price"');
    await queryRunner.query(
      'CREATE INDEX "IDX_5782a37287b137cb6c3230b31f" ON "offers" USING btree ("normalized_price") ',
    );
  }
}
