import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Registry search filters on columns that go together (a site is in one subdivision; AI
 * resources have accelerators). Without multi-column statistics the planner multiplies
 * selectivities as if they were independent and may walk the created_at index for a rare
 * combination. Not an entity concern: TypeORM does not model statistics objects.
 */
export class ResourceSearchStatistics1795858500000 implements MigrationInterface {
  name = 'ResourceSearchStatistics1795858500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE STATISTICS IF NOT EXISTS "resources_search_dims" (dependencies, mcv) ON "class", "form", "country", "subdivision", "site" FROM "resources"',
    );
    await queryRunner.query(
      'CREATE STATISTICS IF NOT EXISTS "resources_search_spec" (dependencies, mcv) ON "class", "accel_model", "accel_count" FROM "resources"',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP STATISTICS IF EXISTS "resources_search_spec"');
    await queryRunner.query('DROP STATISTICS IF EXISTS "resources_search_dims"');
  }
}
