import type { MigrationInterface, QueryRunner } from 'typeorm';

export class UsageDeadLetterDedupe1795854526185 implements MigrationInterface {
  name = 'UsageDeadLetterDedupe1795854526185';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "usage_dead_letters" ADD "dedupe_key" text');
    await queryRunner.query(
      'ALTER TABLE "usage_dead_letters" ADD "published_at" TIMESTAMP WITH TIME ZONE',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_91fc9f932523a9bc452cf47948" ON "usage_dead_letters"  ("dedupe_key") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_91fc9f932523a9bc452cf47948"');
    await queryRunner.query('ALTER TABLE "usage_dead_letters" DROP COLUMN "published_at"');
    await queryRunner.query('ALTER TABLE "usage_dead_letters" DROP COLUMN "dedupe_key"');
  }
}
