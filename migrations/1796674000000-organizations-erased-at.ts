import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OrganizationsErasedAt1796674000000 implements MigrationInterface {
  name = 'OrganizationsErasedAt1796674000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "organizations" ADD "erased_at" TIMESTAMP WITH TIME ZONE');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "organizations" DROP COLUMN "erased_at"');
  }
}
