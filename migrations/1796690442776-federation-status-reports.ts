import type { MigrationInterface, QueryRunner } from 'typeorm';

export class FederationStatusReports1796690442776 implements MigrationInterface {
  name = 'FederationStatusReports1796690442776';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "federation_status_reports" ("platform" text NOT NULL, "report" text NOT NULL, "payload" jsonb NOT NULL, "reported_at" TIMESTAMP WITH TIME ZONE NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "alerted_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_9983d7c324ba726125d311f5b40" PRIMARY KEY ("platform"))',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "federation_status_reports"');
  }
}
