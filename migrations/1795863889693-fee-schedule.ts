import type { MigrationInterface, QueryRunner } from 'typeorm';

export class FeeSchedule1795863889693 implements MigrationInterface {
  name = 'FeeSchedule1795863889693';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "fee_schedule" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "take_rate" numeric(38,9) NOT NULL, "effective_from" TIMESTAMP WITH TIME ZONE NOT NULL, "note" text NOT NULL DEFAULT \'\', "set_by_user_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ff34967d26d3283d21abcc0125c" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_650fe46794b3bd921490827e8c" ON "fee_schedule"  ("effective_from") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_650fe46794b3bd921490827e8c"');
    await queryRunner.query('DROP TABLE "fee_schedule"');
  }
}
