import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ResourceHeartbeats1795857149427 implements MigrationInterface {
  name = 'ResourceHeartbeats1795857149427';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "resource_heartbeats" ("resource_id" uuid NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "agent_id" text NOT NULL, "status" text NOT NULL, "utilization" numeric(10,6), CONSTRAINT "PK_3e614464d1476447ff0e40d0af1" PRIMARY KEY ("resource_id", "at"))',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "resource_heartbeats"');
  }
}
