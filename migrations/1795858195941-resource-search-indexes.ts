import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ResourceSearchIndexes1795858195941 implements MigrationInterface {
  name = 'ResourceSearchIndexes1795858195941';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_f41eb6d47b934086eeeacc169c"');
    await queryRunner.query(
      'CREATE INDEX "IDX_resources_region_created" ON "resources"  ("country", "subdivision", "created_at", "id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_resources_class_created" ON "resources"  ("class", "created_at", "id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_resources_registrant_created" ON "resources"  ("registrant", "created_at", "id") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_resources_registrant_created"');
    await queryRunner.query('DROP INDEX "public"."IDX_resources_class_created"');
    await queryRunner.query('DROP INDEX "public"."IDX_resources_region_created"');
    await queryRunner.query(
      'CREATE INDEX "IDX_f41eb6d47b934086eeeacc169c" ON "resources" USING btree ("registrant") ',
    );
  }
}
