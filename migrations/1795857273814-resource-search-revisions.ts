import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ResourceSearchRevisions1795857273814 implements MigrationInterface {
  name = 'ResourceSearchRevisions1795857273814';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "resource_revisions" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "resource_id" uuid NOT NULL, "revision" integer NOT NULL, "cri" text NOT NULL, "facts" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "superseded_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_9148b7c292fec83e0b3620f1982" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "IDX_85df0c8fbb8ec9c9bfea2d661b" ON "resource_revisions"  ("cri") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_resource_revisions_resource_revision" ON "resource_revisions"  ("resource_id", "revision") ',
    );
    await queryRunner.query('ALTER TABLE "resources" ADD "cpu" integer');
    await queryRunner.query('ALTER TABLE "resources" ADD "mem_gib" integer');
    await queryRunner.query('ALTER TABLE "resources" ADD "accel_model" text');
    await queryRunner.query('ALTER TABLE "resources" ADD "accel_count" integer');
    await queryRunner.query(
      'ALTER TABLE "resources" ADD "capacity_slots" integer NOT NULL DEFAULT \'1\'',
    );
    await queryRunner.query(
      'ALTER TABLE "resources" ADD "revision" integer NOT NULL DEFAULT \'1\'',
    );
    await queryRunner.query('ALTER TABLE "resources" ADD "retired_at" TIMESTAMP WITH TIME ZONE');
    // Backfill: search columns from the spec, and revision 1 for every registered resource.
    await queryRunner.query(
      `UPDATE "resources" SET "cpu" = ("spec"->>'cpu')::int, "mem_gib" = ("spec"->>'memGiB')::int, "accel_model" = "spec"->'accel'->>'model', "accel_count" = ("spec"->'accel'->>'count')::int`,
    );
    await queryRunner.query(
      `INSERT INTO "resource_revisions" ("resource_id", "revision", "cri", "facts", "created_at") SELECT "id", 1, "cri", jsonb_build_object('industry', "industry", 'class', "class", 'form', "form", 'location', jsonb_build_object('country', "country", 'subdivision', "subdivision", 'site', "site"), 'spec', "spec"), "created_at" FROM "resources"`,
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_f41eb6d47b934086eeeacc169c" ON "resources"  ("registrant") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_fe76ccd5667b6fae18a11380d3" ON "resources"  ("state") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_3f864e57e04a2b7a51d6d4061a" ON "resources"  ("last_heartbeat_at") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_resources_location" ON "resources"  ("country", "subdivision", "site") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_resources_accel" ON "resources"  ("accel_model", "accel_count") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_resources_created_id" ON "resources"  ("created_at", "id") ',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."IDX_resources_created_id"');
    await queryRunner.query('DROP INDEX "public"."IDX_resources_accel"');
    await queryRunner.query('DROP INDEX "public"."IDX_resources_location"');
    await queryRunner.query('DROP INDEX "public"."IDX_3f864e57e04a2b7a51d6d4061a"');
    await queryRunner.query('DROP INDEX "public"."IDX_fe76ccd5667b6fae18a11380d3"');
    await queryRunner.query('DROP INDEX "public"."IDX_f41eb6d47b934086eeeacc169c"');
    await queryRunner.query('ALTER TABLE "resources" DROP COLUMN "retired_at"');
    await queryRunner.query('ALTER TABLE "resources" DROP COLUMN "revision"');
    await queryRunner.query('ALTER TABLE "resources" DROP COLUMN "capacity_slots"');
    await queryRunner.query('ALTER TABLE "resources" DROP COLUMN "accel_count"');
    await queryRunner.query('ALTER TABLE "resources" DROP COLUMN "accel_model"');
    await queryRunner.query('ALTER TABLE "resources" DROP COLUMN "mem_gib"');
    await queryRunner.query('ALTER TABLE "resources" DROP COLUMN "cpu"');
    await queryRunner.query('DROP INDEX "public"."UQ_resource_revisions_resource_revision"');
    await queryRunner.query('DROP INDEX "public"."IDX_85df0c8fbb8ec9c9bfea2d661b"');
    await queryRunner.query('DROP TABLE "resource_revisions"');
  }
}
