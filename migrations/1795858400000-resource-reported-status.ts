import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ResourceReportedStatus1795858400000 implements MigrationInterface {
  name = 'ResourceReportedStatus1795858400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "resources" ADD "reported_status" text');
    await queryRunner.query('DROP INDEX "public"."IDX_85df0c8fbb8ec9c9bfea2d661b"');
    await queryRunner.query(
      'CREATE INDEX "IDX_85df0c8fbb8ec9c9bfea2d661b" ON "resource_revisions"  ("cri") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_85df0c8fbb8ec9c9bfea2d661b"');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_85df0c8fbb8ec9c9bfea2d661b" ON "resource_revisions"  ("cri") ',
    );
    await queryRunner.query('ALTER TABLE "resources" DROP COLUMN "reported_status"');
  }
}
