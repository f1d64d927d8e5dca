import type { MigrationInterface, QueryRunner } from 'typeorm';

export class UsageDeadLettersUnpublished1795856235961 implements MigrationInterface {
  name = 'UsageDeadLettersUnpublished1795856235961';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE INDEX "IDX_usage_dead_letters_unpublished" ON "usage_dead_letters"  ("id") WHERE "published_at" IS NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_usage_dead_letters_unpublished"');
  }
}
