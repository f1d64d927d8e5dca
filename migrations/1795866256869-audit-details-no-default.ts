import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditDetailsNoDefault1795866256869 implements MigrationInterface {
  name = 'AuditDetailsNoDefault1795866256869';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "audit_events" ALTER COLUMN "details" DROP DEFAULT');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "audit_events" ALTER COLUMN "details" SET DEFAULT \'{}\'');
  }
}
