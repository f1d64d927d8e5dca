import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * usage_minutes becomes one row per (lease, minute) with a column per standard unit (it had one
 * row per unit), and usage_events keeps what dedupe and tracing need (its quantities are in the
 * aggregates): the ingest's two hottest writes shrink (docs/decisions.md, "Metering ingest
 * throughput"). Existing minute rows are pivoted, not lost.
 */
export class UsageMinutesWide1796634638681 implements MigrationInterface {
  name = 'UsageMinutesWide1796634638681';

  async up(queryRunner: QueryRunner): Promise<void> {
    const known = await queryRunner.query(
      `SELECT DISTINCT unit FROM usage_minutes WHERE unit <> ALL ($1::text[])`,
      [UNITS],
    );
    if ((known as unknown[]).length > 0) {
      throw new Error(`usage_minutes holds units without a column: ${JSON.stringify(known)}`);
    }
    await queryRunner.query('ALTER TABLE "usage_minutes" RENAME TO "usage_minutes_by_unit"');
    await queryRunner.query(
      'ALTER TABLE "usage_minutes_by_unit" RENAME CONSTRAINT "PK_8f58a4a765cbdfe874c590dc38b" TO "PK_usage_minutes_by_unit"',
    );
    await queryRunner.query(
      `CREATE TABLE "usage_minutes" ("lease_id" uuid NOT NULL, "bucket" TIMESTAMP WITH TIME ZONE NOT NULL, ${UNITS.map(
        (u) => `"${column(u)}" numeric(38,9)`,
      ).join(
        ', ',
      )}, CONSTRAINT "PK_12acc695d52984aa830753a7fb8" PRIMARY KEY ("lease_id", "bucket"))`,
    );
    await queryRunner.query(
      `INSERT INTO "usage_minutes" ("lease_id", "bucket", ${UNITS.map((u) => `"${column(u)}"`).join(', ')})
       SELECT lease_id, bucket, ${UNITS.map((u) => `sum(quantity) FILTER (WHERE unit = '${u}')`).join(', ')}
         FROM "usage_minutes_by_unit" GROUP BY lease_id, bucket`,
    );
    await queryRunner.query('DROP TABLE "usage_minutes_by_unit"');
    await queryRunner.query('DROP INDEX "public"."IDX_be211f59c255f67565237de016"');
    await queryRunner.query('ALTER TABLE "usage_events" DROP COLUMN "window_end"');
    await queryRunner.query('ALTER TABLE "usage_events" DROP COLUMN "units"');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // The events' own quantities are gone (the aggregates hold them): an empty map and the
    // window's end as one minute on.
    await queryRunner.query(`ALTER TABLE "usage_events" ADD "units" jsonb NOT NULL DEFAULT '{}'`);
    await queryRunner.query('ALTER TABLE "usage_events" ALTER COLUMN "units" DROP DEFAULT');
    await queryRunner.query(
      'ALTER TABLE "usage_events" ADD "window_end" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()',
    );
    await queryRunner.query(
      `UPDATE "usage_events" SET "window_end" = "window_start" + interval '1 minute'`,
    );
    await queryRunner.query('ALTER TABLE "usage_events" ALTER COLUMN "window_end" DROP DEFAULT');
    await queryRunner.query(
      'CREATE INDEX "IDX_be211f59c255f67565237de016" ON "usage_events" ("lease_id") ',
    );
    await queryRunner.query('ALTER TABLE "usage_minutes" RENAME TO "usage_minutes_wide"');
    await queryRunner.query(
      'ALTER TABLE "usage_minutes_wide" RENAME CONSTRAINT "PK_12acc695d52984aa830753a7fb8" TO "PK_usage_minutes_wide"',
    );
    await queryRunner.query(
      'CREATE TABLE "usage_minutes" ("lease_id" uuid NOT NULL, "unit" text NOT NULL, "bucket" TIMESTAMP WITH TIME ZONE NOT NULL, "quantity" numeric(38,9) NOT NULL, CONSTRAINT "PK_8f58a4a765cbdfe874c590dc38b" PRIMARY KEY ("lease_id", "unit", "bucket"))',
    );
    await queryRunner.query(
      `INSERT INTO "usage_minutes" (lease_id, unit, bucket, quantity)
       SELECT m.lease_id, x.unit, m.bucket, x.quantity FROM "usage_minutes_wide" m
       CROSS JOIN LATERAL (VALUES ${UNITS.map((u) => `('${u}', m."${column(u)}")`).join(', ')}) AS x(unit, quantity)
        WHERE x.quantity IS NOT NULL`,
    );
    await queryRunner.query('DROP TABLE "usage_minutes_wide"');
  }
}

/** The units as of this migration (a copy: a migration must not change when the catalog does). */
const UNITS = [
  'scu.ai',
  'scu.hpc',
  'scu.gen',
  'mem.gib_h',
  'sto.gib_h',
  'net.egress_gib',
  'api.call',
];
const column = (unit: string) => unit.replace('.', '_');
